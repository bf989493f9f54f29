"""Egress allowlists on the Docker plane, under mocks: a sandbox with a list is alone on an
internal network whose bridge has no host address, its gateway holds its published ports and
its list, and a change to the list replaces the gateway only (docs/egress.md)."""

from __future__ import annotations

import ipaddress
import itertools
from typing import Any

import pytest

from components.contract import PROXY_ENV, SSH_PORT
from components.planes.docker.egress import SUBNET_POOL, egress_net, network_name
from tests.support.provider_schema import ProviderSchemas

from .conftest import PRESETS, ROOT, RunSpec, custom, fleet_spec, others_changed
from .test_security import CONTAINER, assert_every_container_has_a_pids_limit
from .test_tailnet_identity import TAILNET

REPO = "https://github.com/acme/app.git"
SPEC = f"""version: 1
defaults:
  repo: {REPO}
sandboxes:
  open: {{task: audit}}
  locked: {{task: test, ports: [8000, 80], egress: [github.com, "*.pypi.org"]}}
  ui: {{task: frontend-dev, egress: [github.com]}}
"""
NETWORK = "docker:index/network:Network"


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return dict(entry.split("=", 1) for entry in container["envs"])


def test_a_sandbox_with_a_list_is_alone_on_its_own_internal_network(run_spec: RunSpec) -> None:
    run = run_spec(SPEC)
    assert run.error is None, run.error
    net = egress_net(network_name("", "locked"))
    network = run.by_name("fleet-locked-egress-network").inputs
    assert network["name"] == "egress-locked" and network["internal"] is True
    assert network["options"] == {"com.docker.network.bridge.inhibit_ipv4": "true"}
    assert network["ipamConfigs"] == [{"subnet": str(net.subnet), "gateway": net.bridge}]
    assert ipaddress.IPv4Network(network["ipamConfigs"][0]["subnet"]).subnet_of(SUBNET_POOL)
    sandbox = run.by_name("fleet-locked-container").inputs
    assert sandbox["networksAdvanced"] == [{"name": "egress-locked", "ipv4Address": net.sandbox}]
    assert "ports" not in sandbox or sandbox["ports"] == [], "Docker drops them on internal nets"
    names = {h["host"]: h["ip"] for h in sandbox["hosts"]}
    assert names == dict.fromkeys(["egress-proxy", "supervisor", "model-server"], net.gateway)
    env = env_of(sandbox)
    assert env["https_proxy"] == env["HTTP_PROXY"] == "http://egress-proxy:3128"
    assert env["no_proxy"] == "localhost,127.0.0.1,supervisor,model-server"
    assert set(PROXY_ENV) <= set(env["SANDBOX_SHELL_ENV"].split()), "SSH shells need them too"


def test_the_gateway_publishes_the_sandboxs_ports_and_carries_its_list(run_spec: RunSpec) -> None:
    run = run_spec(SPEC)
    net = egress_net(network_name("", "locked"))
    gateway = run.by_name("fleet-locked-egress-container").inputs
    assert gateway["name"] == "locked-egress"
    assert sorted(gateway["networksAdvanced"], key=lambda n: n["name"]) == [
        {"name": "ai-net", "aliases": ["locked"]},
        {"name": "egress-locked", "ipv4Address": net.gateway},
    ]
    published = run.outputs["sandboxes"]["locked"]
    ssh_port = int(published["ssh"].rsplit(":", 1)[1])
    ports = {(p["internal"], p["external"]) for p in gateway["ports"]}
    assert ports == {(SSH_PORT, ssh_port), (8000, published["ports"]["8000"]),
                     (80, published["ports"]["80"])}  # fmt: skip
    assert all(p["ip"] == "127.0.0.1" for p in gateway["ports"])
    env = env_of(gateway)
    assert env["EGRESS_NAMES"] == "github.com" and env["EGRESS_WILDCARDS"] == "pypi.org"
    assert env["EGRESS_PUBLISH"] == f"{SSH_PORT} 8000 80"
    assert (env["EGRESS_SELF"], env["EGRESS_SANDBOX"]) == (net.gateway, net.sandbox)
    assert env["EGRESS_SERVICES"] == "8000=supervisor:8000 8080=model-server:8080"
    assert gateway["sysctls"] == {"net.ipv4.ip_unprivileged_port_start": "0"}


def test_an_open_sandbox_is_as_it_was(run_spec: RunSpec) -> None:
    with_lists, without = run_spec(SPEC), run_spec(SPEC.split("  locked:")[0])
    assert with_lists.error is None and without.error is None
    assert (
        with_lists.by_name("fleet-open-container").inputs
        == without.by_name("fleet-open-container").inputs
    )
    assert [r.name for r in without.of_type(NETWORK)] == ["fleet-storage-ai-net"]


def test_a_new_list_entry_adds_only_its_own_resources(run_spec: RunSpec) -> None:
    base = fleet_spec(12)
    before = run_spec(base)
    after = run_spec(base + "  newcomer:\n    task: audit\n    egress: [git.example.test]\n")
    assert before.error is None and after.error is None, after.error
    old, new = custom(before), custom(after)
    added = sorted(new[u].name for u in new.keys() - old.keys())
    assert all("newcomer" in name or name == "fleet-egress-image-build" for name in added), added
    assert {"fleet-newcomer-egress-network", "fleet-newcomer-egress-container"} <= set(added)
    assert others_changed(old, new) == []


def with_list(names: str) -> str:
    return SPEC.replace('egress: [github.com, "*.pypi.org"]', f"egress: [{names}]")


def test_changing_the_list_replaces_the_gateway_and_leaves_the_sandbox(run_spec: RunSpec) -> None:
    before, after = run_spec(SPEC), run_spec(with_list("github.com, files.example.test"))
    old, new = custom(before), custom(after)
    assert old.keys() == new.keys()
    changed = sorted(new[u].name for u in new if old[u].inputs != new[u].inputs)
    assert changed == ["fleet-locked-egress-container"]


def test_any_to_a_list_moves_the_sandbox_onto_its_network(run_spec: RunSpec) -> None:
    before = run_spec(SPEC.replace('egress: [github.com, "*.pypi.org"]', "egress: any"))
    after = run_spec(SPEC)
    old, new = custom(before), custom(after)
    sandbox = next(u for u in new if u.endswith("::fleet-locked-container"))
    assert old[sandbox].inputs["networksAdvanced"][0]["name"] == "ai-net"
    assert new[sandbox].inputs["networksAdvanced"][0]["name"] == "egress-locked"


@pytest.mark.parametrize("stack_file", [ROOT / "Pulumi.dev.yaml", *PRESETS], ids=lambda p: p.name)
def test_gateways_fit_the_schemas_and_are_locked_down_on_every_preset(
    stack_file: object, run_spec: RunSpec, schemas: ProviderSchemas
) -> None:
    run = run_spec(SPEC, stack_file)
    assert run.error is None, run.error
    assert schemas.validate_registered(run.resources) == []
    gateways = [c for c in run.of_type(CONTAINER) if c.name.endswith("-egress-container")]
    if "modal" in str(stack_file):
        assert gateways == []
        return
    assert len(gateways) == 2
    for g in gateways:
        i = g.inputs
        assert i["privileged"] is False and i["capabilities"] == {"drops": ["ALL"]}, g.urn
        assert i["user"] == "1000:1000" and "no-new-privileges:true" in i["securityOpts"]
        assert i["memory"] == 128 and i["memorySwap"] == 128 and i["cpuQuota"] == 50_000
        assert i["wait"] is True, "the sandbox clones through it: it starts only once healthy"
    assert_every_container_has_a_pids_limit(run, str(stack_file))


def test_a_list_and_the_tailnet_together_are_refused(run_spec: RunSpec) -> None:
    spec = "version: 1\nsandboxes:\n  both:\n    task: audit\n    tailnet: true\n    egress: []\n"
    run = run_spec(spec, ROOT / "stacks" / "linux-docker.yaml", **TAILNET)
    assert run.error is not None and run.resources == []
    assert ":3: sandboxes.both.tailnet: a sandbox with an egress list cannot join" in str(run.error)


def test_the_cloud_planes_refuse_a_list(run_spec: RunSpec) -> None:
    spec = "version: 1\nsandboxes:\n  etl: {task: data-processing, runtime: modal, egress: []}\n"
    run = run_spec(spec, ROOT / "stacks" / "modal-cloud.yaml", secret_keys=("MODAL_TOKEN_ID",
                   "MODAL_TOKEN_SECRET"))  # fmt: skip
    assert run.error is not None and run.resources == []
    assert "sandboxes.etl.egress: runtime modal cannot enforce a list of names" in str(run.error)


def colliding_names() -> tuple[str, str]:
    """Two sandbox names whose networks derive the same subnet (found by search: the birthday
    bound over SUBNET_POOL's 131072 slots is a few hundred names)."""
    seen: dict[ipaddress.IPv4Network, str] = {}
    for i in itertools.count():
        name = f"box-{i}"
        subnet = egress_net(network_name("", name)).subnet
        if subnet in seen:
            return seen[subnet], name
        seen[subnet] = name
    raise AssertionError("unreachable")


def test_two_names_that_derive_one_subnet_are_reported_before_anything(run_spec: RunSpec) -> None:
    first, second = colliding_names()
    spec = f"version: 1\nsandboxes:\n  {first}: {{task: audit, egress: []}}\n"
    spec += f"  {second}: {{task: audit, egress: []}}\n"
    run = run_spec(spec)
    assert run.error is not None and run.resources == []
    assert f"is also sandboxes.{min(first, second)}'s; rename one of them" in str(run.error)


def test_the_hosts_addresses_are_denied_to_every_gateway(run_spec: RunSpec) -> None:
    """The private ranges are in the image; the bind address and egressDenyAddresses (the
    host's public ones) come from the stack."""
    run = run_spec(SPEC, egressDenyAddresses=["203.0.113.7", "2001:db8::/64"])
    assert run.error is None, run.error
    env = env_of(run.by_name("fleet-locked-egress-container").inputs)
    assert env["EGRESS_DENY"] == "203.0.113.7/32 2001:db8::/64 127.0.0.1"


def test_a_deny_entry_that_is_no_address_stops_the_stack(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, egressDenyAddresses=["my-host.example"])
    assert run.error is not None and run.resources == []
    assert "egressDenyAddresses" in str(run.error) and "'my-host.example' is not an address" in str(
        run.error
    )
