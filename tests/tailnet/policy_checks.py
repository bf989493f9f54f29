"""Structural checks of a rendered tailnet policy, and the fleets the expected files cover."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from components.tailnet.policy import (
    GENERATED_BEGIN,
    GENERATED_END,
    FleetAccess,
    parse_hujson,
)

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
EXPECTED = HERE / "expected"

# name -> (base fixture, fleet). Each has a reviewed rendering in expected/<name>.hujson.
FLEETS: dict[str, tuple[str, FleetAccess]] = {
    "minimal-one-host": (
        "minimal.hujson",
        FleetAccess(
            owner="group:fleet-admins",
            host_tag="tag:sandbox-host",
            published_ports=(2201, 6081, 8080, 18000),
        ),
    ),
    "team-with-identities": (
        "team.hujson",
        FleetAccess(
            owner="group:fleet-admins",
            host_tag="tag:sandbox-host",
            published_ports=(18000, 2202, 2201, 6081, 6082, 8080),
            sandbox_tag="tag:sandbox",
            sandbox_ports=(2222, 6080),
        ),
    ),
    "user-owner-custom-tag": (
        "minimal.hujson",
        FleetAccess(owner="alice@example.com", host_tag="tag:agents", published_ports=(2222,)),
    ),
    "oauth-client-owns-tags-too": (
        "oauth.hujson",
        FleetAccess(
            owner="group:fleet-admins",
            host_tag="tag:sandbox-host",
            published_ports=(2201, 8080),
            sandbox_tag="tag:sandbox",
            sandbox_ports=(2222,),
            extra_tag_owners=("tag:fleet-automation", "group:fleet-admins"),
        ),
    ),
    "headquarters-of-two-hosts": (
        "team.hujson",
        FleetAccess(
            owner="group:fleet-admins",
            host_tag="tag:sandbox-host",
            published_ports=(2201, 8080, 16379),
            peer_ports=(16379,),
        ),
    ),
    "team-no-ports": (
        "team.hujson",
        FleetAccess(owner="group:fleet-admins", host_tag="tag:sandbox-host", published_ports=()),
    ),
}


def generated_blocks(text: str) -> list[Any]:
    """Each fenced generated block of a rendered policy, parsed on its own: grants blocks hold
    array items, tagOwners blocks hold object members."""
    blocks: list[list[str]] = []
    inside = False
    for line in text.splitlines():
        if line.strip() == GENERATED_BEGIN:
            inside = True
            blocks.append([])
        elif line.strip() == GENERATED_END:
            inside = False
        elif inside:
            blocks[-1].append(line)
    parsed = []
    for block in blocks:
        body = "\n".join(block)
        opener, closer = ("{", "}") if body.lstrip().startswith('"') else ("[", "]")
        parsed.append(parse_hujson(opener + body + closer, "generated block"))
    return parsed


def as_strict_json(text: str) -> Any:
    """Rendered text minus comment lines and trailing commas must still be JSON (no HuJSON tricks
    beyond those two)."""
    body = "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))
    return json.loads(re.sub(r",(\s*[\]}])", r"\1", body))


def policy_problems(policy: dict[str, Any], access: FleetAccess) -> list[str]:
    """Everything that breaks the fleet's least-privilege promise in a merged policy."""
    problems: list[str] = []
    owners = policy.get("tagOwners", {})
    fleet_tags = {access.host_tag} | ({access.sandbox_tag} if access.sandbox_tag else set())
    allowed_ports = {
        access.host_tag: {f"tcp:{p}" for p in access.published_ports},
        access.sandbox_tag: {f"tcp:{p}" for p in access.sandbox_ports},
    }
    expected_owners = [access.owner, *sorted(set(access.extra_tag_owners) - {access.owner})]
    for tag in fleet_tags:
        if owners.get(tag) != expected_owners:
            problems.append(f"{tag} owned by {owners.get(tag)!r}, not {expected_owners!r}")
    for tag, tag_owners in owners.items():
        for owner in (o for o in tag_owners if o.startswith("tag:")):
            if owner not in owners:
                problems.append(f"{tag} is owned by {owner}, which no tagOwners entry declares")
    for i, grant in enumerate(policy.get("grants", [])):
        names = [*grant.get("src", []), *grant.get("dst", [])]
        for tag in (n for n in names if n.startswith("tag:")):
            if tag not in owners:
                problems.append(f"grants[{i}] names {tag}, which no tagOwners entry declares")
        reached = fleet_tags & set(grant.get("dst", [])) or (
            fleet_tags if "*" in grant.get("dst", []) else set()
        )
        if not reached:
            continue
        if "*" in grant.get("src", []) or "*" in grant.get("ip", []):
            problems.append(f"grants[{i}] opens {sorted(reached)} to '*'")
        for tag in reached:
            extra = set(grant.get("ip", [])) - allowed_ports.get(tag, set())
            if extra and grant.get("src") == [access.owner]:
                problems.append(f"grants[{i}] gives {tag} unpublished ports {sorted(extra)}")
            peers = set(grant.get("ip", [])) - {f"tcp:{p}" for p in access.peer_ports}
            if peers and grant.get("src") == [access.host_tag]:
                problems.append(f"grants[{i}] gives the hosts more than the bus: {sorted(peers)}")
    return problems


def load_fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def parse(text: str) -> Any:
    return parse_hujson(text, "rendered")
