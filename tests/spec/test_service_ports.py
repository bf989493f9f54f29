"""A sandbox's host port block (SSH, noVNC, then app ports; pinned by `ssh_port` or derived
from the name) never holds a port the fleet's own services publish. The spec layer knows the
blocks; the caller says which ports the services hold (it reads the stack settings)."""

from __future__ import annotations

from components.spec import load_spec_text
from components.spec.ports import derived_start

from .conftest import TODAY

SERVICES = {
    18000: "the supervisor's task API (sandbox-fleet:supervisorPort)",
    18080: "the model server's API (sandbox-fleet:modelServerPort)",
}


def one(entry: str) -> str:
    return f"version: 1\nsandboxes:\n  {entry}\n"


def clashes(text: str, services: dict[int, str] = SERVICES) -> list[str]:
    spec = load_spec_text(text, file="fleet.yaml", today=TODAY)
    return spec.service_port_problems(spec.sandboxes, services)


def test_a_pinned_ssh_port_on_the_supervisor_port_names_line_port_service_and_a_free_port() -> None:
    text = one("a: {task: audit}\n  on-api:\n    task: audit\n    ssh_port: 18000")
    assert clashes(text) == [
        "fleet.yaml:4: sandboxes.on-api: host ports 18000-18001 (pinned by ssh_port) include "
        "18000, which the supervisor's task API (sandbox-fleet:supervisorPort) publishes; use "
        "`ssh_port: 18001` (free) or change that setting"
    ]


def test_the_unused_novnc_slot_of_a_headless_block_counts_too() -> None:
    """The block is the entry's: switching it to a desktop later must not land on a service."""
    text = "version: 1\nsandboxes:\n  etl: {task: audit, ssh_port: 17999}\n"
    (problem,) = clashes(text)
    assert "host ports 17999-18000 (pinned by ssh_port) include 18000" in problem


def test_an_app_port_on_the_model_server_port_is_found_and_the_suggestion_skips_both() -> None:
    text = one("web: {task: frontend-dev, ports: [3000, 3001], ssh_port: 17998}")
    (problem,) = clashes(text)
    assert "host ports 17998-18001 (pinned by ssh_port) include 18000" in problem
    text = one("web: {task: frontend-dev, ports: [3000, 3001], ssh_port: 18078}")
    (problem,) = clashes(text)
    assert (
        "host ports 18078-18081 (pinned by ssh_port) include 18080, which the model server"
        in problem
    )
    assert "`ssh_port: 18081`" in problem


def test_a_derived_block_that_holds_a_service_port_says_so() -> None:
    start = derived_start("audit-auth")
    services = {start + 1: "the supervisor's task API (sandbox-fleet:supervisorPort)"}
    (problem,) = clashes("version: 1\nsandboxes:\n  audit-auth: {task: audit}\n", services)
    assert f"host ports {start}-{start + 1} (derived from the name) include {start + 1}" in problem


def test_the_suggested_port_is_free_of_services_and_of_every_other_block() -> None:
    text = (
        "version: 1\nsandboxes:\n"
        "  a: {task: audit, ssh_port: 18000}\n"
        "  b: {task: audit, ssh_port: 18002}\n"
        "  c: {task: audit, ssh_port: 18005}\n"
    )
    (problem,) = clashes(text)
    assert "`ssh_port: 18004`" not in problem and "`ssh_port: 18007`" in problem
    fixed = text.replace("ssh_port: 18000", "ssh_port: 18007")
    assert clashes(fixed) == []


def test_no_services_no_problems() -> None:
    assert clashes("version: 1\nsandboxes:\n  a: {task: audit, ssh_port: 18000}\n", {}) == []
