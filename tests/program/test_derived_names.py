"""The names the program gives Docker objects, held against the spec's reserved names
(components/spec/reserved.py): a container is a sandbox, a service, or a sandbox's name plus a
suffix the spec reserves; a volume is shared, a sandbox's `workspace-NAME` or its tailnet node's
`tailscale-state-NAME`. A new derived
name that the spec does not know about fails here, before two sandboxes can claim it."""

from __future__ import annotations

from components.spec.reserved import DERIVED_SUFFIXES, RESERVED_NAMES

from .conftest import RunSpec
from .test_tailnet_identity import TAILNET

SPEC = """version: 1
sandboxes:
  dev: {task: frontend-dev, tailnet: true, ports: [3000]}
  etl: {task: data-processing}
  dev-box: {task: audit, tailnet: true}
"""


def test_every_docker_name_is_a_sandbox_a_service_or_a_reserved_derivation(
    run_spec: RunSpec,
) -> None:
    run = run_spec(SPEC, **TAILNET)
    assert run.error is None, run.error
    sandboxes = {"dev", "etl", "dev-box"}
    containers = [r.inputs["name"] for r in run.of_type("docker:index/container:Container")]
    assert len(containers) == len(set(containers))
    derived = {n + suffix for n in sandboxes for suffix in DERIVED_SUFFIXES}
    unexplained = set(containers) - sandboxes - RESERVED_NAMES - derived
    assert unexplained == set(), "derived from a sandbox name but not reserved by the spec"
    assert {"dev-tailscale", "dev-box-tailscale"} <= set(containers)
    volumes = [r.inputs["name"] for r in run.of_type("docker:index/volume:Volume")]
    assert len(volumes) == len(set(volumes))
    # Volume names carry a prefix no shared volume has, so they never clash with one another.
    states = {f"tailscale-state-{n}" for n in ("dev", "dev-box")}  # the tailnet identities
    assert set(volumes) - RESERVED_NAMES == {f"workspace-{n}" for n in sandboxes} | states


def test_headquarters_names_only_reserved_objects_for_the_bus(run_spec: RunSpec) -> None:
    hosts = "hosts:\n  local: {capabilities: [headless], headquarters: true}\n"
    hosts += "  desk: {capabilities: [headless]}\n"
    run = run_spec(f"version: 1\n{hosts}sandboxes:\n  etl: {{task: data-processing}}\n")
    assert run.error is None, run.error
    containers = {r.inputs["name"] for r in run.of_type("docker:index/container:Container")}
    volumes = {r.inputs["name"] for r in run.of_type("docker:index/volume:Volume")}
    assert {"bus", "bus-data"} <= containers | volumes
    assert containers - RESERVED_NAMES == {"etl"}
    assert volumes - RESERVED_NAMES == {"workspace-etl"}


def test_a_sandbox_named_like_a_sidecar_stops_the_stack_before_anything(
    run_spec: RunSpec,
) -> None:
    text = SPEC + "  dev-tailscale: {task: audit}\n"
    run = run_spec(text, **TAILNET)
    assert run.error is not None and run.resources == []
    assert ".yaml:6:3: sandboxes.dev-tailscale: name 'dev-tailscale' is taken" in str(run.error)
