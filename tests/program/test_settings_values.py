"""Every stack setting is checked when the settings are read (issue #12): sizes, numbers,
booleans, addresses and paths, each refused with the file, the key, the value and the rule, and
never as a Python traceback."""

from __future__ import annotations

import ipaddress
from typing import Any

import pulumi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.settings import SettingsError, all_keys, parse_settings
from components.tools.project_file import config_declarations

from .conftest import RunSpec, fleet_spec

TAILNET_ON = {
    "tailnetEnabled": "true",
    "tailnetOwner": "a@example.com",
    "tailnetAddress": "100.64.0.1",
}
DECLARED = {k.removeprefix("sandbox-fleet:"): d for k, d in config_declarations().items()}
INTEGER_KEYS = sorted(k for k, d in DECLARED.items() if d["type"] == "integer")
# Declared as text (Pulumi project config has no number type) but read as numbers or sizes.
TEXT_NUMBER_KEYS = [
    "modelServerCpus",
    "supervisorCpus",
    "preflightOvercommitRatio",
    "preflightCpuOvercommitRatio",
]
SIZE_KEYS = ["modelServerMemory", "supervisorMemory"]


def base_for(key: str) -> dict[str, Any]:
    """The least config under which `key` is read at all."""
    return dict(TAILNET_ON) if key.startswith("tailnet") else {}


def refused(raw: dict[str, Any]) -> str:
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw, stack_file="Pulumi.hq.yaml")
    message = str(caught.value)
    assert all(line.startswith("Pulumi.hq.yaml: ") for line in message.splitlines()), message
    assert "Traceback" not in message
    return message


def test_the_key_lists_cover_what_pulumi_yaml_declares() -> None:
    assert set(TEXT_NUMBER_KEYS + SIZE_KEYS) <= set(DECLARED)
    assert {"modelServerPort", "supervisorPort", "daytonaTimeoutSeconds"} <= set(INTEGER_KEYS)


@pytest.mark.parametrize("key", INTEGER_KEYS + TEXT_NUMBER_KEYS + SIZE_KEYS)
@pytest.mark.parametrize("value", ["lots", "-1", "1e400", "nan", str(10**12), ""])
def test_every_number_and_size_is_checked_naming_its_key(key: str, value: str) -> None:
    if value == "":  # unset: the default, which is always valid
        parse_settings({**base_for(key), key: value})
        return
    message = refused({**base_for(key), key: value})
    assert f"sandbox-fleet:{key}: " in message, message
    assert f'(got "{value}")' in message, message


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("modelServerMemory", "lots", "'lots' is not a size (use e.g. 512Mi or 4Gi)"),
        ("modelServerMemory", "4096", "'4096' is not a size"),
        ("supervisorMemory", "1Ki", "'1Ki' is less than 6Mi, Docker's smallest memory limit"),
        ("supervisorMemory", "5.9Mi", "'5.9Mi' is less than 6Mi, Docker's smallest memory limit"),
        ("supervisorMemory", "6000K", "'6000K' is less than 6Mi"),
        ("modelServerMemory", "0Mi", "'0Mi' is less than 6Mi"),
        ("modelServerMemory", "2Ti", "'2Ti' is more than 1Ti"),
    ],
)
def test_a_memory_limit_is_a_size_docker_can_apply(key: str, value: str, words: str) -> None:
    message = refused({key: value})
    assert f"Pulumi.hq.yaml: sandbox-fleet:{key}: {words}" in message, message


@pytest.mark.parametrize("value", ["6Mi", "512Mi", "4Gi", "1.5Gi", "1Ti"])
def test_memory_limits_docker_can_apply_are_kept_as_written(value: str) -> None:
    s = parse_settings({"modelServerMemory": value, "supervisorMemory": value})
    assert (s.model_server.memory, s.supervisor.memory) == (value, value)


def test_a_bad_size_stops_the_program_before_anything_is_registered(run_spec: RunSpec) -> None:
    for key in SIZE_KEYS:
        run = run_spec(fleet_spec(1), **{key: "lots"})
        assert isinstance(run.error, pulumi.RunError), repr(run.error)
        assert run.resources == [], [r.urn for r in run.resources]
        assert f"Pulumi.dev.yaml: sandbox-fleet:{key}: 'lots' is not a size" in str(run.error)


# -- bindAddress: every spelling of "every interface" is refused -------------------------------


def refuses_every_interface(value: str) -> None:
    message = refused({"bindAddress": value})
    assert f"sandbox-fleet:bindAddress: '{value}' listens on every interface" in message, message


@pytest.mark.parametrize(
    "value",
    [
        "0.0.0.0",
        "::",
        "0:0::0",
        "0000:0000:0000:0000:0000:0000:0000:0000",
        "::0.0.0.0",  # IPv4-compatible
        "::ffff:0.0.0.0",  # IPv4-mapped: an IPv6 socket bound there takes every IPv4 address
        "::ffff:0:0",
        "0::FFFF:0000:0000",
        "0:0:0:0:0:ffff:0.0.0.0",
        "::%eth0",
        "::ffff:0.0.0.0%1",
    ],
)
def test_every_spelling_of_every_interface_is_refused(value: str) -> None:
    refuses_every_interface(value)


EVERY_INTERFACE = {ipaddress.ip_address("::"), ipaddress.ip_address("::ffff:0.0.0.0")}


def _spell_group(draw: st.DrawFn, group: int) -> str:
    text = f"{group:x}".zfill(draw(st.integers(1, 4)))
    return text.upper() if draw(st.booleans()) else text


@st.composite
def every_interface(draw: st.DrawFn) -> str:
    """`::` or `::ffff:0:0` written any way the IPv6 grammar allows."""
    groups = [0] * 8 if draw(st.booleans()) else [0, 0, 0, 0, 0, 0xFFFF, 0, 0]
    dotted = groups[5] == 0xFFFF and draw(st.booleans())
    words = [_spell_group(draw, g) for g in (groups[:6] if dotted else groups)]
    zeros = [i for i, g in enumerate(groups[: len(words)]) if g == 0]
    compress: bool = draw(st.booleans())
    if zeros and compress:  # one run of zero groups written as "::"
        start = draw(st.sampled_from(zeros))
        end = start + 1
        while end < len(words) and groups[end] == 0 and draw(st.booleans()):
            end += 1
        head, tail = ":".join(words[:start]), ":".join(words[end:])
        text = f"{head}::{tail}"
        if dotted:
            text += ("" if text.endswith(":") else ":") + "0.0.0.0"
    else:
        text = ":".join(words) + (":0.0.0.0" if dotted else "")
    return text


@settings(max_examples=300, deadline=None)
@given(every_interface())
def test_property_no_spelling_of_every_interface_is_a_bind_address(value: str) -> None:
    assert ipaddress.ip_address(value) in EVERY_INTERFACE, value  # the strategy is honest
    refuses_every_interface(value)


@settings(max_examples=300, deadline=None)
@given(st.ip_addresses())
def test_property_one_address_is_a_bind_address(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    mapped = getattr(address, "ipv4_mapped", None)
    if address.is_unspecified or (mapped is not None and mapped.is_unspecified):
        refuses_every_interface(str(address))
    else:
        assert parse_settings({"bindAddress": str(address)}).bind_address == str(address)


# -- booleans: true or false, the same rule for every key ----------------------------------------

BOOLEAN_KEYS = sorted(k for k, d in DECLARED.items() if d["type"] == "boolean")
GROUP_OF = {
    "": "top", "host": "host", "modelServer": "model_server", "supervisor": "supervisor",
    "tailnet": "tailnet", "preflight": "preflight", "daytona": "daytona", "modal": "modal",
}  # fmt: skip
# What a key set to true needs besides, so that only the key itself is judged.
NEEDS = {
    "tailnetDiscoverAddress": {"tailnetAddress": ""},
    "tailnetOverwriteExistingPolicy": {"tailnetManageAcl": "true"},
}


def read_flag(raw: dict[str, Any], key: str) -> bool:
    s = parse_settings(raw)
    prefix, field = all_keys()[key]
    if key in ("tailnetEnabled",):
        return s.tailnet is not None
    group = getattr(s, GROUP_OF[prefix])
    return bool(group.model_dump(by_alias=True)[field])


def test_the_boolean_keys_are_every_group_s() -> None:
    assert {"tailnetEnabled", "modalEnabled", "preflightEnabled", "buildImages"} <= set(
        BOOLEAN_KEYS
    )
    assert {"hostRootless", "modelServerPublish", "tailnetManageAcl"} <= set(BOOLEAN_KEYS)


@pytest.mark.parametrize("key", BOOLEAN_KEYS)
@pytest.mark.parametrize("value", ["yes", "no", "on", "off", "1", "0", "True", "FALSE", "y", 1, 0])
def test_a_boolean_is_true_or_false_and_nothing_else(key: str, value: object) -> None:
    message = refused({**base_for(key), key: value})
    assert f"sandbox-fleet:{key}: {value!r} is not true or false" in message, message


@pytest.mark.parametrize("key", BOOLEAN_KEYS)
@pytest.mark.parametrize(("value", "expected"), [(True, True), ("true", True), (False, False)])
def test_true_and_false_are_read_the_same_for_every_key(
    key: str, value: object, expected: bool
) -> None:
    raw = {**base_for(key), **(NEEDS.get(key, {}) if expected else {}), key: value}
    assert read_flag(raw, key) is expected
    assert read_flag({**base_for(key), key: "false"}, key) is False


# -- modelServerModelFile stays inside the model-data volume -------------------------------------


@pytest.mark.parametrize(
    "value",
    ["/etc/shadow", "/models/model.gguf", "../model.gguf", "llama/../../etc/passwd", "..",
     "llama//q4.gguf", "llama/", "/", "./", "llama/./q4.gguf", "model\n.gguf", "model\x00.gguf"],
)  # fmt: skip
def test_the_model_file_cannot_leave_the_model_volume(value: str) -> None:
    message = refused({"modelServerModelFile": value})
    assert f"sandbox-fleet:modelServerModelFile: {value!r} is not a file in the model-data" in (
        message
    ), message


@pytest.mark.parametrize("value", ["model.gguf", "llama/q4_k_m.gguf", "a b/c-d.GGUF"])
def test_a_model_file_inside_the_volume_is_kept(value: str) -> None:
    assert parse_settings({"modelServerModelFile": value}).model_server.modelFile == value


# -- hostAddress of the ssh variant: an ssh:// URL ssh cannot read as an option ------------------

HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlaceholderReplaceWithSshKeyscanOutput0"
SSH = {"hostVariant": "ssh", "hostSshHostKey": HOST_KEY}


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("ssh://-oProxyCommand=touch${IFS}/tmp/x", "starts with '-' after ssh://"),
        ("ssh://-host", "starts with '-' after ssh://"),
        ("ssh://-l@host", "starts with '-' after ssh://"),
        ("ssh://fleet@-oProxyCommand=x", "its host '-oproxycommand=x' starts with '-'"),
        ("ssh://fleet@-host:22", "its host '-host' starts with '-'"),
        ("fleet@fleet-host", "is not an ssh:// address"),
        ("tcp://fleet-host:2375", "is not an ssh:// address"),
        ("ssh://", "names no host"),
        ("ssh://fleet@", "names no host"),
        ("ssh://fleet:secret@fleet-host", "carries a password"),
        ("ssh://fleet@fleet-host/var/run/docker.sock", "has a path, query or fragment"),
        ("ssh://fleet@fleet-host?x=1", "has a path, query or fragment"),
        ("ssh://fleet@fleet host", "is not a host name or address"),
        ("ssh://fleet@fleet-host:99999", "port"),
        ("ssh://fleet@fleet-host:0", "port"),
        ("ssh://fl eet@fleet-host", "is not a user name"),
        ("", "required by hostVariant: ssh"),
    ],
)
def test_an_ssh_host_address_is_an_ssh_url_that_is_no_option(value: str, words: str) -> None:
    message = refused({**SSH, "hostAddress": value} if value else SSH)
    assert "sandbox-fleet:hostAddress: " in message and words in message, message


@pytest.mark.parametrize(
    ("value", "user", "host", "port"),
    [
        ("ssh://fleet@fleet-host", "fleet", "fleet-host", None),
        ("ssh://fleet@100.64.0.20:2222", "fleet", "100.64.0.20", 2222),
        ("ssh://fleet-host", None, "fleet-host", None),
        ("ssh://dev.user@[fd7a:115c::1]:22", "dev.user", "fd7a:115c::1", 22),
    ],
)
def test_an_ssh_host_address_is_read_into_its_parts(
    value: str, user: str | None, host: str, port: int | None
) -> None:
    address = parse_settings({**SSH, "hostAddress": value}).host.ssh_address
    assert (address.user, address.host, address.port) == (user, host, port)


def test_the_ssh_variant_needs_a_pinned_host_key_line() -> None:
    message = refused({"hostVariant": "ssh", "hostAddress": "ssh://fleet@fleet-host"})
    assert "sandbox-fleet:hostSshHostKey: required by hostVariant: ssh" in message, message
    message = refused({**SSH, "hostAddress": "ssh://h", "hostSshHostKey": f"h {HOST_KEY}"})
    assert (
        "sandbox-fleet:hostSshHostKey: 'h ssh-ed25519 AAAAC3NzaC...' is not a host key line"
        in message
    ), message


def test_a_bad_ssh_address_stops_the_program_before_anything_is_registered(
    run_spec: RunSpec,
) -> None:
    configs: list[dict[str, Any]] = [
        {**SSH, "hostAddress": "ssh://-oProxyCommand=x"},
        {"hostVariant": "ssh", "hostAddress": "ssh://fleet@h", "hostSshHostKey": None},
    ]
    for config in configs:
        run = run_spec(fleet_spec(1), **config)
        assert isinstance(run.error, pulumi.RunError), repr(run.error)
        assert run.resources == [], [r.urn for r in run.resources]
        assert "Pulumi.dev.yaml: sandbox-fleet:host" in str(run.error)


# -- host ports of the settings do not collide -------------------------------------------------


def test_the_stack_s_own_host_ports_are_every_published_port_setting() -> None:
    published = {"modelServerPublish": "true"}
    assert parse_settings(published).host_ports == {
        "sandbox-fleet:supervisorPort": 18000,
        "sandbox-fleet:modelServerPort": 18080,
    }
    assert parse_settings({}).host_ports == {"sandbox-fleet:supervisorPort": 18000}
    off = {**published, "modelServerEnabled": "false"}
    assert parse_settings(off).host_ports == {"sandbox-fleet:supervisorPort": 18000}
    assert parse_settings({"hostVariant": "none", **published}).host_ports == {}


def test_two_port_settings_on_one_host_port_are_refused_naming_both() -> None:
    message = refused({"modelServerPublish": True, "modelServerPort": 18000})
    assert (
        "Pulumi.hq.yaml: sandbox-fleet:modelServerPort: host port 18000 is also "
        "sandbox-fleet:supervisorPort; give each its own port"
    ) in message, message
    message = refused({"modelServerPublish": True, "supervisorPort": "18080"})
    assert "sandbox-fleet:modelServerPort: host port 18080 is also " in message, message
    # Not published, the model server's port is no host port at all.
    assert parse_settings({"supervisorPort": 18080}).supervisor.port == 18080


def test_colliding_port_settings_register_nothing(run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(1), modelServerPublish=True, supervisorPort=18080)
    assert isinstance(run.error, pulumi.RunError), repr(run.error)
    assert run.resources == [], [r.urn for r in run.resources]
    assert "sandbox-fleet:supervisorPort" in str(run.error)


@pytest.mark.parametrize("value", ['["lots"]', "[0]", "[70000]", "[]", '"2222"'])
def test_a_list_of_ports_is_checked_naming_its_key(value: str) -> None:
    message = refused({**TAILNET_ON, "tailnetSandboxPorts": value})
    assert "sandbox-fleet:tailnetSandboxPorts" in message, message


@pytest.mark.parametrize("key", ["supervisorCpus", "modelServerCpus"])
def test_a_cpu_limit_below_what_docker_takes_is_refused(key: str) -> None:
    """0.001 CPUs is a CFS quota of 100 µs, under Docker's 1 ms minimum."""
    with pytest.raises(SettingsError, match=rf"sandbox-fleet:{key}: .*0\.01 to 256"):
        parse_settings({key: "0.001"})
    assert parse_settings({key: "0.01"})


def test_a_public_key_is_one_line() -> None:
    """Keys are written one per line into authorized_keys: a line break would add a key."""
    one = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@x"
    assert parse_settings({"sshAuthorizedKeys": [one]})
    with pytest.raises(SettingsError, match=r"sandbox-fleet:sshAuthorizedKeys.*one SSH public key"):
        parse_settings({"sshAuthorizedKeys": [one + "\nssh-ed25519 AAAAsmuggled evil@x"]})
