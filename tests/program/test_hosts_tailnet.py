"""The tailnet policy of a fleet on several hosts, under mocks (the Tailscale API cannot be
reached here): whichever stack keeps the policy (`tailnetManageAcl`), it lets the fleet's hosts
reach headquarters' bus port, and only that; a fleet on one host gets no such grant."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.tailnet.policy import parse_hujson

from .conftest import RunSpec
from .test_hosts import MEMBER, NO_HOSTS, SPEC

ACL = "tailscale:index/acl:Acl"
BUS_PORT = 16400


def grants(run_spec: RunSpec, base: Path, spec: str, **config: Any) -> list[dict[str, Any]]:
    run = run_spec(
        spec, tailnetEnabled=True, tailnetOwner="group:fleet-admins",
        tailnetAddress="100.64.0.10", tailnetManageAcl=True,
        tailnetBasePolicyFile=str(base), busPort=BUS_PORT, **config,
    )  # fmt: skip
    assert run.error is None, run.error
    [acl] = run.of_type(ACL)
    found: list[dict[str, Any]] = parse_hujson(acl.inputs["acl"])["grants"]
    return found


@pytest.mark.parametrize(
    ("spec", "config", "to_the_bus"),
    [
        (SPEC, {"hostName": "hq"}, True),
        (SPEC, MEMBER, True),  # a member that keeps the policy knows busPort too
        (NO_HOSTS, {}, False),
    ],
    ids=["headquarters", "member", "single-host"],
)
def test_the_hosts_of_a_fleet_on_several_hosts_may_reach_headquarters_bus(
    run_spec: RunSpec, tmp_path: Path, spec: str, config: dict[str, Any], to_the_bus: bool
) -> None:
    base = tmp_path / "base.hujson"
    base.write_text('{"groups": {"group:fleet-admins": ["alice@example.com"]}}\n')
    found = grants(run_spec, base, spec, **config)
    between_hosts = [g for g in found if g["src"] == ["tag:sandbox-host"]]
    peer = {"src": ["tag:sandbox-host"], "dst": ["tag:sandbox-host"], "ip": [f"tcp:{BUS_PORT}"]}
    assert between_hosts == ([peer] if to_the_bus else [])
    assert all(g["src"] == ["group:fleet-admins"] for g in found if g not in between_hosts)
