"""A sandbox is never named like an object the fleet derives from another sandbox's name (the
tailnet sidecar container `NAME-tailscale`), whichever entry comes first and whether or not
the other entry joins the tailnet today (turning `tailnet:` on must never break the file)."""

from __future__ import annotations

import pytest

from components.spec import Problem, SpecError, load_spec_text
from components.spec.reserved import DERIVED_SUFFIXES

from .conftest import TODAY


def problems(text: str) -> list[Problem]:
    with pytest.raises(SpecError) as info:
        load_spec_text(text, today=TODAY)
    return list(info.value.problems)


@pytest.mark.parametrize(
    "entries",
    [
        "  dev: {task: audit}\n  dev-tailscale: {task: audit}\n",
        "  dev-tailscale: {task: audit}\n  dev: {task: audit}\n",
        "  dev-tailscale: {task: audit}\n  dev: {task: audit, expires: 2020-01-01}\n",
    ],
    ids=["after", "before", "expired-owner"],
)
def test_the_name_of_a_sidecar_is_refused_on_the_entry_that_takes_it(entries: str) -> None:
    (problem,) = problems(f"version: 1\nsandboxes:\n{entries}")
    assert problem.path == "sandboxes.dev-tailscale"
    assert problem.line == 3 + entries.splitlines().index("  dev-tailscale: {task: audit}")
    assert "sandboxes.dev" in problem.message and "'-tailscale'" in problem.message


def test_a_suffixed_name_alone_is_fine() -> None:
    spec = load_spec_text("version: 1\nsandboxes:\n  db-tailscale: {task: audit}\n", today=TODAY)
    assert [s.name for s in spec.sandboxes] == ["db-tailscale"]


def test_the_suffixes_are_the_ones_the_docker_plane_uses() -> None:
    from components.contract import (
        EGRESS_GATEWAY_SUFFIX,
        TAILNET_SIDECAR_SUFFIX,
        TAILNET_STATE_SUFFIX,
    )

    assert set(DERIVED_SUFFIXES) == {
        TAILNET_SIDECAR_SUFFIX,
        TAILNET_STATE_SUFFIX,
        EGRESS_GATEWAY_SUFFIX,
    }


def test_the_clash_is_reported_with_every_other_problem_at_once() -> None:
    found = problems(
        "version: 1\nsandboxes:\n  dev: {task: audti}\n  dev-tailscale: {task: audit}\n"
    )
    assert [p.path for p in found] == ["sandboxes.dev.task", "sandboxes.dev-tailscale"]
