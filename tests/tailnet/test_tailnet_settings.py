"""TailnetSettings (stack config `sandbox-fleet:tailnet`) and the pure helpers of tailnet.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError

from components.host.preflight import first_tailnet_ipv4
from components.settings.tailnet import MAX_KEY_EXPIRY, TailnetSettings
from components.tailnet.access import key_description

BASE: dict[str, Any] = {"owner": "group:fleet-admins", "address": "100.101.102.103"}


def errors(config: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        TailnetSettings.model_validate(config)
    return str(caught.value)


def test_defaults_from_the_minimal_config() -> None:
    s = TailnetSettings.model_validate(BASE)
    assert (s.host_tag, s.sandbox_tag) == ("tag:sandbox-host", "tag:sandbox")
    assert s.manage_acl is False and s.overwrite_existing_policy is False
    assert s.base_policy_file == "policy/base.hujson"
    assert s.key_expiry_seconds == MAX_KEY_EXPIRY == 7_776_000
    assert s.key_rotation == "1" and s.sandbox_identity is False
    assert s.sandbox_ports == (2222, 6080)


def test_camel_case_keys_as_in_the_stack_file() -> None:
    s = TailnetSettings.model_validate(
        {
            "owner": "alice@example.com",
            "discoverAddress": True,
            "manageAcl": True,
            "hostTag": "tag:agents",
            "basePolicyFile": "policy/other.hujson",
            "keyExpirySeconds": 3600,
            "keyRotation": "2026-q3",
            "sandboxIdentity": True,
            "sandboxPorts": [6080, 2222, 2222],
            "magicDnsSuffix": "tail1234.ts.net",
            "hostDevice": "box",
            "extraTagOwners": ["tag:fleet-automation", "autogroup:admin"],
        }
    )
    assert s.discover_address and s.manage_acl and s.sandbox_identity
    assert s.sandbox_ports == (2222, 6080)
    assert s.key_rotation == "2026-q3" and s.host_device == "box"
    assert s.extra_tag_owners == ("tag:fleet-automation", "autogroup:admin")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"owner": "*"}, "must be a user e-mail"),
        ({"owner": "autogroup:admin"}, "must be a user e-mail"),
        ({"hostTag": "sandbox-host"}, "is not a Tailscale tag"),
        (
            {"sandboxTag": "tag:sandbox-host"},
            "tailnetHostTag and sandbox-fleet:tailnetSandboxTag must",
        ),
        ({"address": "0.0.0.0"}, "outside the tailnet range 100.64.0.0/10"),
        ({"address": "192.168.1.10"}, "outside the tailnet range"),
        ({"address": "host.example"}, "is not an IPv4 address"),
        ({"address": None}, "set exactly one of sandbox-fleet:tailnetAddress"),
        ({"discoverAddress": True}, "set exactly one of sandbox-fleet:tailnetAddress"),
        ({"overwriteExistingPolicy": True}, "only applies with sandbox-fleet:tailnetManageAcl"),
        ({"keyExpirySeconds": MAX_KEY_EXPIRY + 1}, "less than or equal to 7776000"),
        ({"keyRotation": "has space"}, "should match pattern"),
        ({"keyRotation": ""}, "should match pattern"),
        ({"sandboxPorts": [0]}, "give TCP ports 1-65535"),
        ({"manageACL": True}, "manageACL\n  Extra inputs are not permitted"),
        ({"extraTagOwners": ["autogroup:member"]}, "tag owner 'autogroup:member' must be"),
    ],
)
def test_bad_settings_are_refused_with_the_rule(change: dict[str, Any], words: str) -> None:
    assert words in errors({**BASE, **change})


def test_settings_are_frozen() -> None:
    s = TailnetSettings.model_validate(BASE)
    with pytest.raises(ValidationError):
        s.owner = "bob@example.com"  # type: ignore[misc]


@pytest.mark.parametrize(
    "name", ["box", "a" * 80, "feature_x.with.dots", "überhost-mit-umlauten-und-viel-text"]
)
@pytest.mark.parametrize("kind", ["host", "sandbox"])
@pytest.mark.parametrize("rotation", ["1", "x" * 16])
def test_key_description_fits_the_api_and_carries_the_rotation(
    name: str, kind: str, rotation: str
) -> None:
    text = key_description(kind, name, rotation)
    assert len(text) <= 50, text
    assert re.fullmatch(r"[A-Za-z0-9 -]+", text), text
    assert text.endswith(f" r{rotation}")
    assert key_description(kind, name, "rotated") != text  # a new rotation, a new key


def test_key_descriptions_of_long_names_stay_distinct() -> None:
    assert key_description("host", "a" * 60 + "1", "1") != key_description(
        "host", "a" * 60 + "2", "1"
    )


def test_first_tailnet_ipv4() -> None:
    assert first_tailnet_ipv4("100.101.102.103\n") == "100.101.102.103"
    assert first_tailnet_ipv4("10.0.0.1\n100.64.0.9\n") == "100.64.0.9"
    with pytest.raises(ValueError, match="printed no tailnet IPv4"):
        first_tailnet_ipv4("Tailscale is stopped.\n")
