"""`python -m components.cli status`: every stack of the project at a glance.

For each `Pulumi.<stack>.yaml` beside `Pulumi.yaml` it reads the stack's outputs with the same
CLI, backend and passphrase as `scripts/up` (`scripts/pulumi stack output --json
--show-secrets`), then asks that host's supervisor (its `apiUrl`, with its `apiToken`) for its
health and its workload of the last hours. Outputs it reads: `host.name`, `host.capabilities`,
`supervisor.apiUrl`, `supervisor.apiToken`, and per sandbox `mode`, `runtime`, `state`, and
`status` (set on an entry another stack deploys: it is left out here).

Exit codes: 0 every stack's supervisor answered, 1 at least one did not (or the stack has no
outputs yet: never deployed), 2 usage or project error (no Pulumi.yaml, no stack file,
`scripts/pulumi` missing).
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..contract import SUPERVISOR

EXIT_REACHABLE, EXIT_UNREACHABLE, EXIT_USAGE = 0, 1, 2
PULUMI_SECONDS = 300  # one `stack output` (the first may install the virtualenv's packages)
HTTP_SECONDS = 5.0

Outputs = Callable[[Path, str], dict[str, Any]]
Fetch = Callable[[str, str], tuple[int, Any]]  # (url, token) -> (HTTP status, JSON body)


class ProjectError(Exception):
    """The project cannot be read: exit 2 with this message."""


class StackUnavailable(Exception):
    """A stack's outputs cannot be read (never deployed, backend error): its host is shown
    unreachable, with this message."""


def stack_names(project: Path) -> list[str]:
    if not (project / "Pulumi.yaml").is_file():
        raise ProjectError(f"{project}: no Pulumi.yaml (give the project with --project DIR)")
    names = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml")
                   for p in project.glob("Pulumi.*.yaml"))  # fmt: skip
    if not names:
        raise ProjectError(f"{project}: no stack file (Pulumi.<stack>.yaml)")
    return names


def stack_outputs(project: Path, stack: str) -> dict[str, Any]:
    """`scripts/pulumi stack output` of one stack: the backend and passphrase of `scripts/up`."""
    script = project / "scripts" / "pulumi"
    if not script.is_file():
        raise ProjectError(f"{script} is missing: the status reads stacks the way scripts/up does")
    try:
        done = subprocess.run(
            [str(script), "stack", "output", "--json", "--show-secrets", "--stack", stack],
            cwd=project, capture_output=True, text=True, timeout=PULUMI_SECONDS,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise StackUnavailable(f"pulumi stack output took over {PULUMI_SECONDS} s") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise StackUnavailable(lines[-1].strip() if lines else f"pulumi exit {done.returncode}")
    found = json.loads(done.stdout or "{}")
    if not isinstance(found, dict):
        raise StackUnavailable(f"stack outputs are not an object: {done.stdout[:80]!r}")
    return found


def fetch(url: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_SECONDS) as reply:
            return reply.status, json.loads(reply.read() or b"null")
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body or b"null")
        except ValueError:
            return exc.code, None


def host_status(
    stack: str, outputs: dict[str, Any], hours: int, ask: Fetch = fetch
) -> dict[str, Any]:
    """One stack: its host and sandboxes from the outputs, their workload from the supervisor."""
    host = outputs.get("host") or {}
    supervisor = outputs.get(SUPERVISOR) or {}
    sandboxes = {name: out for name, out in (outputs.get("sandboxes") or {}).items()
                 if isinstance(out, dict) and "status" not in out}  # fmt: skip
    found: dict[str, Any] = {
        "stack": stack,
        "host": host.get("name"),
        "capabilities": list(host.get("capabilities") or []),
        "api_url": supervisor.get("apiUrl"),
        "reachable": False,
        "error": None,
        "health": None,
        "tasks": None,
        "sandboxes": [
            {"name": name, "mode": out.get("mode"), "runtime": out.get("runtime"),
             "state": out.get("state", "deployed"), "tasks": None}
            for name, out in sorted(sandboxes.items())
        ],
    }  # fmt: skip
    url, token = supervisor.get("apiUrl"), supervisor.get("apiToken")
    if not url or not token:
        return found | {"error": "no supervisor in the stack outputs (supervisor.apiUrl/apiToken)"}
    try:
        code, health = ask(f"{url}/health", token)
        found |= {"reachable": True, "health": health}
        code, stats = ask(f"{url}/stats?hours={hours}", token)
    except (OSError, ValueError) as exc:  # refused, timed out, not JSON
        return found | {"error": f"supervisor at {url}: {getattr(exc, 'reason', exc)}"}
    if code != 200 or not isinstance(stats, dict):
        why = stats.get("error") if isinstance(stats, dict) else stats
        return found | {"error": f"supervisor at {url}: /stats answered {code}: {why}"}
    me = stats.get("host") or {}
    found |= {
        "host": found["host"] or me.get("name"),
        "capabilities": found["capabilities"] or list(me.get("capabilities") or []),
        "tasks": stats.get("tasks"),
    }
    per = stats.get("sandboxes") or {}
    for sandbox in found["sandboxes"]:
        sandbox["tasks"] = per.get(sandbox["name"])
    return found


def collect(
    project: Path, hours: int, only: list[str] | None = None, read: Outputs | None = None
) -> list[dict[str, Any]]:
    """Every stack (or those in ``only``); ``read`` gives a stack's outputs (default: pulumi)."""
    read = read or stack_outputs
    names = stack_names(project)
    if unknown := sorted(set(only or []) - set(names)):
        raise ProjectError(f"no stack file for {', '.join(unknown)}; stacks: {', '.join(names)}")

    def one(stack: str) -> dict[str, Any]:
        try:
            outputs = read(project, stack)
        except StackUnavailable as exc:
            return host_status(stack, {}, hours) | {"error": f"stack outputs: {exc}"}
        return host_status(stack, outputs, hours)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, [n for n in names if not only or n in only]))
