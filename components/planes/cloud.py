"""What the cloud planes (Daytona, Modal) share: the rules they check before anything is
created, and how an entry's secrets join its environment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi

from ..spec import FleetSpec, Mode, Runtime, SandboxSpec


def plane_problems(
    runtime: Runtime, entries: list[SandboxSpec], spec: FleetSpec, missing_secrets: Sequence[str]
) -> list[str]:
    """Errors at the entries' lines: desktops and egress lists need the host; the plane needs
    its credentials."""
    problems = [
        f"{spec.file}:{e.line}: sandboxes.{e.name}: runtime {runtime.value} runs headless "
        f"sandboxes only; task {e.task.value} needs a desktop: use runtime docker"
        for e in entries
        if e.mode is Mode.VISUAL
    ]
    # The clouds filter by address (CIDR lists), not by name: a list of names would not hold.
    problems += [
        f"{spec.file}:{e.line}: sandboxes.{e.name}.egress: runtime {runtime.value} cannot "
        "enforce a list of names (its network controls take addresses); use runtime docker "
        "or `egress: any`"
        for e in entries
        if e.egress is not None
    ]
    if entries and missing_secrets:
        first = entries[0]
        problems.append(
            f"{spec.file}:{first.line}: sandboxes.{first.name}: runtime {runtime.value} "
            f"({', '.join(e.name for e in entries)}) needs this stack's credentials; run "
            + " and ".join(f"`pulumi config set --secret {k} <value>`" for k in missing_secrets)
        )
    return problems


def env_with_secrets(
    env: Mapping[str, str], secret_env: Mapping[str, pulumi.Output[str]]
) -> pulumi.Input[dict[str, str]]:
    """The sandbox's env: plain values, plus the entry's secret values as one secret map."""
    if not secret_env:
        return dict(env)
    plain = dict(env)
    return pulumi.Output.all(**secret_env).apply(lambda values: {**plain, **values})
