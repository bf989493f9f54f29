"""`up` waits for each new or replaced Docker sandbox to be ready, as long as the stack says."""

from __future__ import annotations

from .conftest import RunSpec, fleet_spec

CONTAINER = "docker:index/container:Container"


def test_every_sandbox_is_waited_for_with_the_stacks_timeout(run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(3), readyTimeoutSeconds=90)
    assert run.error is None, run.error
    sandboxes = [c for c in run.of_type(CONTAINER) if c.name.endswith("-container")
                 and "SANDBOX_NAME" in str(c.inputs.get("envs"))]  # fmt: skip
    assert len(sandboxes) == 3
    for c in sandboxes:
        assert (c.inputs["wait"], c.inputs["waitTimeout"]) == (True, 90), c.urn
        assert c.inputs["healthcheck"], "wait needs the health check that says ready"


def test_zero_means_up_does_not_wait(run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(2), readyTimeoutSeconds=0)
    assert run.error is None, run.error
    assert not [c for c in run.of_type(CONTAINER) if "wait" in c.inputs]


def test_the_default_waits_five_minutes(run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(1))
    waits = {c.inputs["waitTimeout"] for c in run.of_type(CONTAINER) if c.inputs.get("wait")}
    assert waits == {300}
