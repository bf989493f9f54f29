"""Tailnet policy: HuJSON parsing, generated rules, merge into the base, deterministic rendering."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.tailnet.policy import (
    FleetAccess,
    HuJSONError,
    PolicyError,
    build_policy,
    generate_rules,
    load_base_policy,
    merge_policy,
    parse_hujson,
    strip_generated,
)
from tests.tailnet.policy_checks import (
    EXPECTED,
    FLEETS,
    as_strict_json,
    generated_blocks,
    load_fixture,
    parse,
    policy_problems,
)

REPO = Path(__file__).resolve().parents[2]
FLEET = FLEETS["team-with-identities"][1]

# --- HuJSON -------------------------------------------------------------------------------


def test_hujson_comments_trailing_commas_and_tricky_strings() -> None:
    text = """// header
    {
      "url": "https://example.com/a//b", /* block
      over lines */ "quote": "say \\"hi\\" // not a comment",
      "list": [1, 2, /* c */ 3,],
      "nested": {"a": [], "b": {},},
    }"""
    assert parse_hujson(text) == {
        "url": "https://example.com/a//b",
        "quote": 'say "hi" // not a comment',
        "list": [1, 2, 3],
        "nested": {"a": [], "b": {}},
    }


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ('{\n  "a": 1\n  "b": 2\n}', "base.hujson:3:3", "Expecting ',' delimiter"),
        ('{\n  "a": 1, /* never closed\n}', "base.hujson:2:11", "unterminated /* comment"),
        ('{\n\n  "a": "open\n}', "base.hujson:3:8", "unterminated string"),
        ("{\n  // only a comment\n  ,\n}", "base.hujson:3:3", "Expecting property name"),
        ('{"a": 1, "a": 2}', "base.hujson:", "duplicate key 'a'"),
    ],
)
def test_hujson_errors_name_file_line_and_column(text: str, position: str, words: str) -> None:
    with pytest.raises(HuJSONError) as caught:
        parse_hujson(text, "base.hujson")
    message = str(caught.value)
    assert message.startswith(position), message
    assert words in message


def test_generated_markers_must_pair_up() -> None:
    lines = build_policy(load_fixture("minimal.hujson"), FLEET).splitlines()
    begins = [n for n, line in enumerate(lines, start=1) if "BEGIN sandbox-fleet" in line]
    assert len(begins) == 2  # one block in grants, one in tagOwners
    unclosed = [line for line in lines if "END sandbox-fleet" not in line]
    second = [n for n, line in enumerate(unclosed, start=1) if "BEGIN sandbox-fleet" in line][1]
    with pytest.raises(HuJSONError, match=rf"^p:{second}:1: generated block opened twice"):
        strip_generated("\n".join(unclosed), "p")
    never_closed = "\n".join(lines[: begins[0]])
    with pytest.raises(HuJSONError, match=rf"^p:{begins[0]}:1: generated block is never closed"):
        strip_generated(never_closed, "p")
    stray = "{\n// END sandbox-fleet generated\n}"
    with pytest.raises(HuJSONError, match=r"^p:2:1: generated block end without begin"):
        strip_generated(stray, "p")


def test_base_policy_must_be_an_object_with_typed_sections() -> None:
    with pytest.raises(HuJSONError, match="must be a JSON object"):
        load_base_policy("[]", "b")
    with pytest.raises(HuJSONError, match="'grants' must be a JSON list"):
        load_base_policy('{"grants": {}}', "b")


# --- generated rules ------------------------------------------------------------------------


def test_generated_rules_are_exactly_the_published_ports_from_the_owner() -> None:
    owners, grants = generate_rules(FLEET)
    assert owners == {
        "tag:sandbox-host": ["group:fleet-admins"],
        "tag:sandbox": ["group:fleet-admins"],
    }
    assert grants == [
        {
            "src": ["group:fleet-admins"],
            "dst": ["tag:sandbox-host"],
            "ip": ["tcp:2201", "tcp:2202", "tcp:6081", "tcp:6082", "tcp:8080", "tcp:18000"],
        },
        {"src": ["group:fleet-admins"], "dst": ["tag:sandbox"], "ip": ["tcp:2222", "tcp:6080"]},
    ]


def test_on_several_hosts_the_hosts_reach_headquarters_bus_and_nothing_more() -> None:
    _, alone = generate_rules(FLEET)
    _, grants = generate_rules(FleetAccess(**{**FLEET.__dict__, "peer_ports": (16379,)}))
    assert grants == [
        *alone,
        {"src": ["tag:sandbox-host"], "dst": ["tag:sandbox-host"], "ip": ["tcp:16379"]},
    ]
    assert not [g for g in alone if g["src"] != ["group:fleet-admins"]]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"owner": "*"}, "must be a user e-mail"),
        ({"owner": "autogroup:member"}, "must be a user e-mail"),
        ({"owner": "tag:ci"}, "must be a user e-mail"),
        ({"host_tag": "sandbox-host"}, "is not a Tailscale tag"),
        ({"sandbox_tag": "tag:sandbox-host"}, "must differ from the host tag"),
        ({"published_ports": (0,)}, "not a TCP port"),
        ({"published_ports": (70000,)}, "not a TCP port"),
        ({"peer_ports": (0,)}, "not a TCP port"),
    ],
)
def test_generation_refuses_anything_wider_or_malformed(change: dict[str, Any], words: str) -> None:
    fields = {**FLEET.__dict__, **change}
    with pytest.raises(ValueError, match=words):
        generate_rules(FleetAccess(**fields))


# --- merge ------------------------------------------------------------------------------------


def test_merge_keeps_every_rule_of_the_base_in_order() -> None:
    base = load_base_policy(load_fixture("team.hujson"))
    merged = merge_policy(base, FLEET).as_dict()
    for section in ("acls", "ssh", "tests", "hosts", "groups"):
        assert merged[section] == base[section], section
    assert merged["grants"][: len(base["grants"])] == base["grants"]
    assert {"tag:ci": ["group:eng"]}.items() <= merged["tagOwners"].items()


def test_merge_refuses_an_undefined_owner_group() -> None:
    with pytest.raises(PolicyError, match="owner group:ops is not defined under 'groups'"):
        build_policy("{}", FleetAccess(owner="group:ops", host_tag="tag:h", published_ports=(1,)))


def test_merge_refuses_a_conflicting_tag_owner_and_names_both_sides() -> None:
    with pytest.raises(PolicyError) as caught:
        build_policy(load_fixture("conflicting_tag_owner.hujson"), FLEET, "base.hujson")
    message = str(caught.value)
    assert "base.hujson: tagOwners['tag:sandbox-host']" in message
    assert "['group:ops']" in message and "['group:fleet-admins']" in message


def test_merge_accepts_a_base_that_already_declares_the_same_owner() -> None:
    base = (
        '{"groups": {"group:fleet-admins": []},'
        ' "tagOwners": {"tag:sandbox-host": ["group:fleet-admins"]}}'
    )
    access = FleetAccess(
        owner="group:fleet-admins", host_tag="tag:sandbox-host", published_ports=(22,)
    )
    policy = parse(build_policy(base, access))
    assert policy["tagOwners"] == {"tag:sandbox-host": ["group:fleet-admins"]}


@pytest.mark.parametrize(
    ("rules", "where"),
    [
        ('"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]', "acls[0]"),
        (
            '"acls": [{"action": "accept", "src": ["group:x"], "dst": ["tag:sandbox-host:*"]}]',
            "acls[0]",
        ),
        ('"grants": [{"src": ["*"], "dst": ["tag:sandbox-host"], "ip": ["tcp:22"]}]', "grants[0]"),
        ('"grants": [{"src": ["group:x"], "dst": ["*"], "ip": ["*"]}]', "grants[0]"),
        ('"grants": [{"src": ["group:x"], "dst": ["tag:sandbox"], "ip": ["tcp:*"]}]', "grants[0]"),
    ],
)
def test_merge_refuses_base_rules_that_open_the_fleet_wide(rules: str, where: str) -> None:
    base = '{"groups": {"group:fleet-admins": []}, ' + rules + "}"
    with pytest.raises(PolicyError, match=rf"{re.escape(where)} open"):
        build_policy(base, FLEET)


def test_tailscale_default_allow_all_policy_is_refused() -> None:
    access = FleetAccess(owner="alice@example.com", host_tag="tag:h", published_ports=(22,))
    with pytest.raises(PolicyError, match=r"acls\[0\] open the fleet's tags"):
        build_policy(load_fixture("allow_all.hujson"), access)


def test_merge_is_idempotent_and_drops_stale_generated_rules() -> None:
    base = load_fixture("team.hujson")
    once = build_policy(base, FLEET)
    assert build_policy(once, FLEET) == once
    smaller = FleetAccess(
        owner="group:fleet-admins", host_tag="tag:sandbox-host", published_ports=(2201,)
    )
    assert build_policy(once, smaller) == build_policy(base, smaller)


def test_repo_base_policy_merges_with_default_tags() -> None:
    base = (REPO / "policy" / "base.hujson").read_text()
    access = FleetAccess(
        owner="group:fleet-admins", host_tag="tag:sandbox-host", published_ports=(2201,)
    )
    policy = parse(build_policy(base, access, "policy/base.hujson"))
    assert policy_problems(policy, access) == []


# --- rendered policies against reviewed files -------------------------------------------------


@pytest.mark.parametrize("fleet", sorted(FLEETS))
def test_rendered_policy_matches_reviewed_file(fleet: str) -> None:
    base_file, access = FLEETS[fleet]
    rendered = build_policy(load_fixture(base_file), access, base_file)
    expected = EXPECTED / f"{fleet}.hujson"
    if os.environ.get("UPDATE_EXPECTED") == "1":  # regenerate, then review the diff by hand
        expected.write_text(rendered)
    assert rendered == expected.read_text(), f"{fleet}: rendering changed; review and regenerate"


@pytest.mark.parametrize("fleet", sorted(FLEETS))
def test_rendered_policy_structure(fleet: str) -> None:
    base_file, access = FLEETS[fleet]
    rendered = build_policy(load_fixture(base_file), access, base_file)
    policy = parse(rendered)
    assert as_strict_json(rendered) == policy
    assert policy_problems(policy, access) == []
    blocks = generated_blocks(rendered)
    grants = [entry for block in blocks if isinstance(block, list) for entry in block]
    owners = {k: v for block in blocks if isinstance(block, dict) for k, v in block.items()}
    assert grants == generate_rules(access)[1]
    assert owners == generate_rules(access)[0]
    sources = [access.owner, *([access.host_tag] if access.peer_ports else [])]
    assert {grant["src"][0] for grant in grants} <= set(sources)


# --- determinism ------------------------------------------------------------------------------

ports = st.lists(st.integers(min_value=1, max_value=65535), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(ports=ports, sandbox_ports=ports, data=st.data())
def test_rendering_ignores_port_order_and_duplicates(
    ports: list[int], sandbox_ports: list[int], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(ports + ports[:2]))

    def access(p: list[int], s: list[int]) -> FleetAccess:
        return FleetAccess(
            owner="group:fleet-admins",
            host_tag="tag:sandbox-host",
            published_ports=tuple(p),
            sandbox_tag="tag:sandbox",
            sandbox_ports=tuple(s),
        )

    base = load_fixture("team.hujson")
    first = build_policy(base, access(ports, sandbox_ports))
    assert build_policy(base, access(list(shuffled), sandbox_ports[::-1])) == first
    assert build_policy(first, access(ports, sandbox_ports)) == first
    policy = parse(first)
    assert policy_problems(policy, access(ports, sandbox_ports)) == []
    host_grant = next(g for g in policy["grants"] if g["dst"] == ["tag:sandbox-host"])
    assert host_grant["ip"] == [f"tcp:{p}" for p in sorted(set(ports))]


def test_extra_tag_owners_must_be_declared_and_never_wildcards() -> None:
    access = FleetAccess(
        owner="group:fleet-admins",
        host_tag="tag:sandbox-host",
        published_ports=(22,),
        extra_tag_owners=("tag:fleet-automation",),
    )
    with pytest.raises(
        PolicyError, match="tag:fleet-automation are not declared under 'tagOwners'"
    ):
        build_policy(load_fixture("minimal.hujson"), access)
    with pytest.raises(ValueError, match="tag owner '\\*' must be"):
        generate_rules(FleetAccess(**{**access.__dict__, "extra_tag_owners": ("*",)}))
