"""Every stack setting is checked when the settings are read (issue #12): sizes, numbers,
booleans, addresses and paths, each refused with the file, the key, the value and the rule, and
never as a Python traceback."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.settings import SettingsError, parse_settings
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
