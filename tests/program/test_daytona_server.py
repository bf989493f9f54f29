"""`daytonaServer: true` under Pulumi mocks: the own Daytona server's graph (its containers,
network and volumes) and how the Daytona plane and the rest of the fleet meet it. The server's
real images come only from a registry, which these machines cannot reach: its containers run
with local stand-ins in tests/e2e/test_daytona_server_real_engine.py."""

from __future__ import annotations

import json
from typing import Any

from components.settings import DaytonaServerSettings
from tests.support.provider_schema import ProviderSchemas
from tests.support.pulumi_harness import Registered, Run

from .conftest import ROOT, RunSpec, custom, fleet_spec, others_changed

CONTAINER = "docker:index/container:Container"
SECRET = "program-test-daytona-server-secret"
SERVICES = {"api", "proxy", "runner", "ssh-gateway", "db", "redis", "dex", "minio", "registry"}
SPEC = """\
version: 1
sandboxes:
  local-audit:
    task: audit
  scan:
    task: audit
    runtime: daytona
    repo: https://git.example.test/acme/app.git
"""


def with_server(run_spec: RunSpec, text: str = SPEC, **config: Any) -> Run:
    run = run_spec(text, **{"daytonaServer": True, "daytonaServerSecret": SECRET, **config})
    assert run.error is None, run.error
    return run


def server_containers(run: Run) -> dict[str, Registered]:
    return {
        c.name.removeprefix("fleet-daytona-server-").removesuffix("-container"): c
        for c in run.of_type(CONTAINER)
        if c.name.startswith("fleet-daytona-server-")
    }


def test_every_service_of_the_compose_file_is_one_container_on_the_servers_network(
    run_spec: RunSpec,
) -> None:
    containers = server_containers(with_server(run_spec))
    assert set(containers) == SERVICES
    for service, c in containers.items():
        assert c.inputs["name"] == f"daytona-{service}"
        [net] = c.inputs["networksAdvanced"]
        assert net["aliases"] == [service], "reached by the compose file's service name"
        assert net["name"] == "daytona-net", f"{service}: on the server's network, not ai-net"
        assert c.inputs["healthcheck"]["tests"], service
        assert c.inputs["wait"] is True and c.inputs["waitTimeout"] == 600, service
        assert c.inputs["memory"] > 0 and c.inputs["cpuQuota"] > 0, service


def test_every_input_fits_the_provider_schemas(run_spec: RunSpec, schemas: ProviderSchemas) -> None:
    """Every Docker and command resource (a Daytona entry's dynamic resource has no schema)."""
    for preview in (False, True):
        run = run_spec(
            fleet_spec(2), preview=preview, daytonaServer=True, daytonaServerSecret=SECRET
        )
        assert run.error is None, run.error
        assert schemas.validate_registered(run.resources) == [], f"preview={preview}"


def test_only_the_runner_is_privileged_and_the_rest_run_without_capabilities(
    run_spec: RunSpec,
) -> None:
    run = with_server(run_spec)
    privileged = [c.name for c in run.of_type(CONTAINER) if c.inputs.get("privileged")]
    assert privileged == ["fleet-daytona-server-runner-container"]
    for service, c in server_containers(run).items():
        if service == "runner":
            assert "capabilities" not in c.inputs and "securityOpts" not in c.inputs
            continue
        assert c.inputs["capabilities"] == {"drops": ["ALL"]}, service
        assert c.inputs["securityOpts"] == ["no-new-privileges:true"], service
        # Root (without a capability) only where the image has no other user.
        root = c.inputs["user"].startswith("0:")
        assert root == (service in ("minio", "registry")), f"{service}: {c.inputs['user']}"
    runner = server_containers(run)["runner"].inputs
    mounts = [(m["type"], m["target"]) for m in runner["mounts"]]
    assert mounts == [("volume", "/var/lib/docker")], "no host path, no Docker socket"
    assert "ports" not in runner, "the runner is reached only on the server's network"


def test_ports_are_published_only_on_the_bind_address(run_spec: RunSpec) -> None:
    run = with_server(run_spec, bindAddress="127.0.0.5", daytonaServerApiPort=13000)
    published = {
        service: [(p["ip"], p["internal"], p["external"]) for p in c.inputs.get("ports", [])]
        for service, c in server_containers(run).items()
    }
    assert {s for s, ports in published.items() if ports} == {"api", "proxy", "ssh-gateway", "dex"}
    assert published["api"] == [("127.0.0.5", 3000, 13000)]
    assert all(ip == "127.0.0.5" for ports in published.values() for ip, _, _ in ports)


def test_data_volumes_are_retained_and_the_work_holding_ones_protected(run_spec: RunSpec) -> None:
    run = with_server(run_spec)
    volumes = {
        r.inputs["name"]: r
        for r in run.of_type("docker:index/volume:Volume")
        if r.inputs["name"].startswith("daytona-")
    }
    assert set(volumes) == {
        f"daytona-{v}" for v in ("db", "minio", "registry", "dex", "runner-docker")
    }
    for name, v in volumes.items():
        assert v.retain_on_delete, name
        assert v.protect == (name in ("daytona-db", "daytona-minio", "daytona-registry")), name
    mounted = {
        m["source"]: service
        for service, c in server_containers(run).items()
        for m in c.inputs.get("mounts", [])
    }
    assert mounted == {
        "daytona-db": "db", "daytona-minio": "minio", "daytona-registry": "registry",
        "daytona-dex": "dex", "daytona-runner-docker": "runner",
    }  # fmt: skip


def test_secrets_stay_secret_and_are_derived_from_the_stack_secret(run_spec: RunSpec) -> None:
    run = with_server(run_spec)
    key = run.outputs["daytonaServer"]["adminApiKey"]
    assert key.startswith("dtn_") and "daytonaServer" in run.secret_outputs
    api_env = dict(e.split("=", 1) for e in server_containers(run)["api"].inputs["envs"])
    assert api_env["ADMIN_API_KEY"] == key
    credentials = [api_env[k] for k in api_env if k.endswith(("_KEY", "_PASSWORD", "_SALT"))]
    assert len(credentials) >= 8, sorted(api_env)
    for r in run.resources:
        for name, value in r.inputs.items():
            if any(c in json.dumps(value) for c in credentials):
                assert name in r.secret_input_paths(), f"{r.urn}: {name} carries a credential"
        assert SECRET not in json.dumps(r.inputs), r.urn
    # The compose file's published defaults are used nowhere.
    text = json.dumps([c.inputs for c in server_containers(run).values()])
    for published in ("supersecretkey", "secret_api_token", "super_secret_key", '=pass"'):
        assert published not in text, published
    assert with_server(run_spec).outputs["daytonaServer"] == run.outputs["daytonaServer"]
    other = with_server(run_spec, daytonaServerSecret="another-secret")
    assert other.outputs["daytonaServer"]["adminApiKey"] != key


def test_every_default_passes_its_own_rules() -> None:
    """Pydantic does not check defaults: a default its own pattern refuses would only show when
    a user wrote it out in the stack file."""
    defaults = DaytonaServerSettings().model_dump(by_alias=True)
    checked = DaytonaServerSettings.model_validate(defaults)  # raises on a refused default
    assert checked.minio_image == DaytonaServerSettings().minio_image
    custom_image = {"apiImage": "registry.local:5000/daytona/api:v0.190.0@sha256:" + "a" * 64}
    assert DaytonaServerSettings.model_validate(custom_image).api_image.startswith("registry")


def test_a_stack_without_the_secret_stops_before_anything_is_created(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, daytonaServer=True)
    assert run.error is not None and run.resources == []
    assert "sandbox-fleet:daytonaServerSecret: not set" in str(run.error)


def test_the_plane_uses_the_own_server_and_waits_for_its_api(run_spec: RunSpec) -> None:
    run = with_server(run_spec)  # no daytonaUrl, no DAYTONA_API_KEY
    [box] = run.of_type("pulumi-python:dynamic:Resource")
    assert box.inputs["api_url"] == "http://127.0.0.1:3000/api"
    assert box.inputs["api_key"] == run.outputs["daytonaServer"]["adminApiKey"]
    api = server_containers(run)["api"]
    assert api.urn in box.dependencies, "the sandbox is created after the API is healthy"
    explicit = with_server(run_spec, daytonaUrl="http://daytona.tailnet:3000/api")
    [box] = explicit.of_type("pulumi-python:dynamic:Resource")
    assert box.inputs["api_url"] == "http://daytona.tailnet:3000/api", "daytonaUrl still wins"


def test_adding_and_removing_the_server_moves_nothing_else(run_spec: RunSpec) -> None:
    text = fleet_spec(4)
    without = custom(run_spec(text, daytonaServerSecret=SECRET))
    added = custom(with_server(run_spec, text))
    assert set(without) <= set(added), "turning it on removes nothing"
    assert all("daytona" in u for u in set(added) - set(without)), "it adds only its own"
    assert others_changed(without, added) == []
    assert others_changed(added, without) == []


def test_a_cloud_only_stack_cannot_run_the_server(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, ROOT / "stacks" / "modal-cloud.yaml", daytonaServer=True)
    assert run.error is not None and run.resources == []
    assert "sandbox-fleet:daytonaServer: true needs a container host" in str(run.error)


def test_its_host_ports_are_checked_against_the_fleets_own(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, daytonaServer=True, daytonaServerSecret=SECRET, supervisorPort=3000)
    assert run.error is not None and run.resources == []
    assert "daytonaServerApiPort: host port 3000 is also sandbox-fleet:supervisorPort" in str(
        run.error
    )
