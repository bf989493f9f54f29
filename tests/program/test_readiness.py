"""`up` waits for each new or replaced Docker sandbox to be ready, as long as the stack says: one
Readiness per host, made after every sandbox container and repository mirror and taking their
ids (so a replaced container is waited for again). The containers themselves do not wait
(pulumi-docker's `wait` fails without saying why)."""

from __future__ import annotations

from typing import Any

from tests.support.pulumi_harness import Registered, Run

from .conftest import ROOT, RunSpec, fleet_spec

CONTAINER = "docker:index/container:Container"
READINESS = "pulumi-python:dynamic/fleet:Readiness"
READINESS_HOST = "pulumi:providers:pulumi-python"


def sandbox_containers(run: Run) -> list[Registered]:
    return [c for c in run.of_type(CONTAINER) if c.name.endswith("-container")
            and "SANDBOX_NAME" in str(c.inputs.get("envs"))]  # fmt: skip


def the_wait(run: Run) -> Registered:
    [wait] = run.of_type(READINESS)
    return wait


def watched(run: Run) -> dict[str, dict[str, Any]]:
    """What the host's Readiness waits for, by subject."""
    return {w["subject"]: w for w in the_wait(run).inputs["watched"]}


def test_every_sandbox_is_waited_for_with_the_stacks_timeout_in_one_wait(
    run_spec: RunSpec,
) -> None:
    run = run_spec(fleet_spec(3), readyTimeoutSeconds=90)
    assert run.error is None, run.error
    wait = the_wait(run)
    assert wait.name == "fleet-ready" and wait.inputs["timeout_seconds"] == 90
    assert wait.inputs["cli"] == ["docker", "--host", "unix:///var/run/docker.sock"]
    waits = watched(run)
    containers = sandbox_containers(run)
    assert len(containers) == 3
    for c in containers:
        w = waits.pop(f"sandbox {c.inputs['hostname']}")
        assert w["container_id"] == f"{c.name}-id", "it takes the container's id"
        assert c.urn in wait.dependencies, f"{wait.urn} is created after {c.urn}"
        assert w["container"] == c.inputs["name"], "it names the container"
        assert w["probe"] == ["/usr/local/bin/sandbox-health"]
        assert "wait" not in c.inputs and "waitTimeout" not in c.inputs, c.urn
        assert c.inputs["healthcheck"]["tests"][1] == w["probe"][0], "the same check"
    assert [s for s in waits if not s.startswith("the mirror of ")] == [], "nothing else"


def test_its_inputs_hold_no_secret(run_spec: RunSpec) -> None:
    wait = the_wait(run_spec(fleet_spec(2), readyTimeoutSeconds=90))
    # The SDK keeps every pickled provider secret, whatever it holds (this one: nothing).
    assert wait.secret_input_paths() == {"__provider"}, wait.urn
    assert not wait.additional_secret_outputs, wait.urn


def test_its_provider_host_is_registered_before_any_container(run_spec: RunSpec) -> None:
    """The engine starts the SDK's dynamic provider host when a provider of it registers: the
    host's own one takes nothing from the containers, so it registers before them and that start
    runs beside their creates, not after them."""
    run = run_spec(fleet_spec(2), readyTimeoutSeconds=90)
    [host] = run.of_type(READINESS_HOST)
    assert host.name == "fleet-ready-host" and host.inputs == {}, "it takes no settings"
    assert the_wait(run).provider.startswith(f"{host.urn}::"), "the Readiness runs in it"
    order = [r.urn for r in run.resources]
    first_container = min(order.index(c.urn) for c in sandbox_containers(run))
    assert order.index(host.urn) < first_container


def test_zero_means_up_does_not_wait(run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(2), readyTimeoutSeconds=0)
    assert run.error is None, run.error
    assert run.of_type(READINESS) == [] and run.of_type(READINESS_HOST) == []
    assert not [c for c in run.of_type(CONTAINER) if "wait" in c.inputs]


def test_the_default_waits_five_minutes_for_the_sandboxes_and_their_mirror(
    run_spec: RunSpec,
) -> None:
    run = run_spec(fleet_spec(1))
    assert the_wait(run).inputs["timeout_seconds"] == 300
    mirrors = [s for s in watched(run) if s.startswith("the mirror of")]
    assert len(mirrors) == 1, "its repository's mirror's first clone"


def test_on_podman_it_asks_podman_at_the_stacks_socket(run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(1), ROOT / "stacks" / "podman.yaml")
    assert run.error is None, run.error
    assert the_wait(run).inputs["cli"] == ["podman", "--url", "unix:///run/podman/podman.sock"]
