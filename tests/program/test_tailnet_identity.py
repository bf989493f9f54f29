"""A sandbox that joins the tailnet itself: a tailscaled sidecar in its network namespace,
its key only as a secret, and outputs that use its MagicDNS name. Verified under mocks and the
provider schemas only: no tailscaled or Tailscale API is reachable on the build machines."""

from __future__ import annotations

import json

from tests.support.provider_schema import ProviderSchemas

from .conftest import ROOT, RunSpec

SPEC = (
    "version: 1\nsandboxes:\n  feature-x:\n    task: frontend-dev\n    tailnet: true\n"
    "  plain:\n    task: audit\n"
)
TAILNET = {
    "tailnetEnabled": True,
    "tailnetOwner": "group:fleet-admins",
    "tailnetAddress": "100.64.0.10",
    "tailnetSandboxIdentity": True,
    "tailnetMagicDnsSuffix": "tail1234.ts.net",
}


def test_identity_sandbox_gets_a_locked_down_sidecar(
    run_spec: RunSpec, schemas: ProviderSchemas
) -> None:
    run = run_spec(SPEC, **TAILNET)
    assert run.error is None, run.error
    sidecar = run.by_name("fleet-feature-x-tailscale")
    i = sidecar.inputs
    assert i["networkMode"] == "container:fleet-feature-x-container-id"
    assert "TS_USERSPACE=true" in i["envs"] and "TS_HOSTNAME=feature-x" in i["envs"]
    assert "envs" in sidecar.secret_input_paths(), "the auth key must stay a secret"
    assert i["capabilities"] == {"drops": ["ALL"]} and i["privileged"] is False
    assert "ports" not in i
    assert not [r for r in run.resources if r.name == "fleet-plain-tailscale"]
    assert schemas.validate_registered(run.resources) == []


def test_outputs_use_the_magic_dns_name(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, **TAILNET)
    box = run.outputs["sandboxes"]["feature-x"]
    assert box["tailnetName"] == "feature-x.tail1234.ts.net"
    assert box["ssh"] == "ssh://dev@feature-x.tail1234.ts.net:2222"
    assert box["novnc"].startswith("http://feature-x.tail1234.ts.net:6080/")
    assert run.outputs["sandboxes"]["plain"]["ssh"].startswith("ssh://dev@100.64.0.10:")
    key_wire = [r for r in run.resources if r.type == "tailscale:index/tailnetKey:TailnetKey"]
    assert key_wire and "test-" not in json.dumps(run.outputs)


def test_identity_without_stack_permission_stops_before_anything(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, **{**TAILNET, "tailnetSandboxIdentity": False})
    assert run.error is not None and [r for r in run.resources if r.custom] == []
    message = str(run.error)
    assert ".yaml:3: sandboxes.feature-x.tailnet:" in message
    assert "tailnetSandboxIdentity" in message
    run = run_spec(SPEC, ROOT / "Pulumi.dev.yaml")
    assert run.error is not None and "tailnetEnabled" in str(run.error)


def test_the_nodes_state_is_on_a_volume_kept_with_the_workspace(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, **TAILNET)
    assert run.error is None, run.error
    volume = run.by_name("fleet-feature-x-tailscale-state")
    assert volume.inputs["name"] == "tailscale-state-feature-x" and volume.retain_on_delete
    sidecar = run.by_name("fleet-feature-x-tailscale").inputs
    assert "TS_STATE_DIR=/var/lib/tailscale" in sidecar["envs"]
    assert {"type": "volume", "source": "tailscale-state-feature-x",
            "target": "/var/lib/tailscale"} in sidecar["mounts"]  # fmt: skip
    owner = run.by_name("fleet-feature-x-tailscale-state-owner")
    assert owner.inputs["attach"] is True and owner.inputs["networkMode"] == "none"
    assert owner.urn in run.by_name("fleet-feature-x-tailscale").dependencies
    discard = SPEC.replace("tailnet: true\n", "tailnet: true\n    data: discard\n", 1)
    gone = run_spec(discard, **TAILNET).by_name("fleet-feature-x-tailscale-state")
    assert not gone.retain_on_delete, "data: discard takes the node's state with it"
