"""`up` waits for each new or replaced Docker sandbox to be ready, as long as the stack says: one
Readiness per sandbox, made after its container and taking its id (so a replaced container is
waited for again). The container itself does not wait (pulumi-docker's `wait` fails without
saying why)."""

from __future__ import annotations

from tests.support.pulumi_harness import Registered, Run

from .conftest import ROOT, RunSpec, fleet_spec

CONTAINER = "docker:index/container:Container"
READINESS = "pulumi-python:dynamic/fleet:Readiness"


def sandbox_containers(run: Run) -> list[Registered]:
    return [c for c in run.of_type(CONTAINER) if c.name.endswith("-container")
            and "SANDBOX_NAME" in str(c.inputs.get("envs"))]  # fmt: skip


def readiness(run: Run) -> dict[str, Registered]:
    """Each sandbox's Readiness by the sandbox it waits for."""
    subjects = {r.inputs.get("subject", ""): r for r in run.of_type(READINESS)}
    return {s.removeprefix("sandbox "): r for s, r in subjects.items() if s.startswith("sandbox ")}


def test_every_sandbox_is_waited_for_with_the_stacks_timeout(run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(3), readyTimeoutSeconds=90)
    assert run.error is None, run.error
    containers = sandbox_containers(run)
    waits = readiness(run)
    assert sorted(waits) == ["box-000", "box-001", "box-002"]
    for c in containers:
        sandbox = c.inputs["hostname"]
        r = waits[sandbox]
        assert r.name == f"fleet-{sandbox}-ready" and r.parent == c.parent, r.urn
        assert r.inputs["container_id"] == f"{c.name}-id", "it takes the container's id"
        assert c.urn in r.dependencies, f"{r.urn} is created after {c.urn}"
        assert r.inputs["container"] == c.inputs["name"], "it names the container"
        assert r.inputs["timeout_seconds"] == 90
        assert r.inputs["cli"] == ["docker", "--host", "unix:///var/run/docker.sock"]
        assert r.inputs["probe"] == ["/usr/local/bin/sandbox-health"]
        assert "wait" not in c.inputs and "waitTimeout" not in c.inputs, c.urn
        assert c.inputs["healthcheck"]["tests"][1] == r.inputs["probe"][0], "the same check"


def test_its_inputs_hold_no_secret(run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(2), readyTimeoutSeconds=90)
    for r in readiness(run).values():
        # The SDK keeps every pickled provider secret, whatever it holds (this one: nothing).
        assert r.secret_input_paths() == {"__provider"}, r.urn
        assert not r.additional_secret_outputs, r.urn


def test_zero_means_up_does_not_wait(run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(2), readyTimeoutSeconds=0)
    assert run.error is None, run.error
    assert readiness(run) == {}
    assert not [c for c in run.of_type(CONTAINER) if "wait" in c.inputs]


def test_the_default_waits_five_minutes(run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(1))
    assert {r.inputs["timeout_seconds"] for r in readiness(run).values()} == {300}
    mirror = [r for r in run.of_type(READINESS) if r.inputs["subject"].startswith("the mirror of")]
    assert [r.inputs["timeout_seconds"] for r in mirror] == [300], "its repository's mirror's"


def test_on_podman_it_asks_podman_at_the_stacks_socket(run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(1), ROOT / "stacks" / "podman.yaml")
    assert run.error is None, run.error
    [wait] = readiness(run).values()
    assert wait.inputs["cli"] == ["podman", "--url", "unix:///run/podman/podman.sock"]
