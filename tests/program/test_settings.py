"""Stack settings: one module reads them; errors name the key; Pulumi.yaml declares them all."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from components.settings import (
    SettingsError,
    all_keys,
    parse_settings,
)
from components.tools.project_file import render_project_file  # fmt: skip
from tests.support.provider_schema import ProviderSchemas

from .conftest import ROOT, RunSpec, fleet_spec


def test_defaults_are_the_embedded_default() -> None:
    s = parse_settings({})
    assert s.bind_address == "127.0.0.1" and s.host.variant == "local"
    assert s.tailnet is None, "no tailnet unless the stack sets tailnetEnabled"
    assert s.preflight.overcommit_ratio == 1.0 and s.preflight.cpu_overcommit_ratio == 4.0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"bindAddress": "0.0.0.0"},
            "sandbox-fleet:bindAddress: '0.0.0.0' listens on every interface",
        ),
        ({"bindAddress": "::"}, "sandbox-fleet:bindAddress: '::' listens on every interface"),
        ({"bindAddress": "localhost"}, "sandbox-fleet:bindAddress"),
        ({"hostVariant": "dockr"}, "sandbox-fleet:hostVariant"),
        ({"bindAdress": "1.2.3.4"}, "unknown config key (did you mean sandbox-fleet:bindAddress?)"),
        ({"modelServerThreads": 0}, "sandbox-fleet:modelServerThreads"),
        (
            {"supervisorCpus": "lots"},
            "sandbox-fleet:supervisorCpus: 'lots' is not a number of CPUs",
        ),
        ({"sshAuthorizedKeys": '["hello"]'}, "sandbox-fleet:sshAuthorizedKeys[0]"),
        ({"namePrefix": "Bad_"}, "sandbox-fleet:namePrefix"),
        (  # a rule across keys names the keys as written in the stack file
            {"tailnetEnabled": "true", "tailnetOwner": "a@example.com"},
            "sandbox-fleet:tailnet* settings: set exactly one of sandbox-fleet:tailnetAddress "
            "(the host's tailnet IPv4) or sandbox-fleet:tailnetDiscoverAddress: true "
            '(got {"sandbox-fleet:tailnetOwner": "a@example.com"})',
        ),
    ],
)
def test_bad_settings_name_file_key_and_value(raw: dict[str, object], expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw, stack_file="Pulumi.hq.yaml")
    assert caught.value.args[0].startswith("Pulumi.hq.yaml: ")
    assert expected in str(caught.value)


def test_bad_settings_stop_the_program_before_anything_exists(run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(2), hostVariant="kubernetes")
    assert run.error is not None and run.resources == []
    assert "Pulumi.dev.yaml: sandbox-fleet:hostVariant" in str(run.error)


def test_pulumi_yaml_declares_every_key_with_type_description_default() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    declared = project["config"]
    assert set(declared) == {f"sandbox-fleet:{k}" for k in all_keys()}
    for key, decl in declared.items():
        assert {"type", "description", "default"} <= set(decl), key


def test_pulumi_yaml_config_block_is_generated_from_the_models() -> None:
    current = (ROOT / "Pulumi.yaml").read_text()
    assert render_project_file(current) == current, (
        "Pulumi.yaml is stale: python -m components.tools.project_file > Pulumi.yaml.new && "
        "mv Pulumi.yaml.new Pulumi.yaml"
    )


def test_pulumi_yaml_fits_pulumis_project_schema() -> None:
    schema_file = ProviderSchemas().directory / "pulumi-project.schema.json"
    schema = json.loads(schema_file.read_text())
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    jsonschema.validate(project, schema)
    assert project["name"] == "sandbox-fleet"
    assert project["runtime"]["name"] == "python"
    assert {"toolchain", "virtualenv"} <= set(project["runtime"]["options"])


def test_every_stack_file_uses_only_declared_keys() -> None:
    declared = set(yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"])
    for stack_file in [ROOT / "Pulumi.dev.yaml", *sorted((ROOT / "stacks").glob("*.yaml"))]:
        keys = set((yaml.safe_load(stack_file.read_text()) or {}).get("config", {}))
        project_keys = {k for k in keys if k.startswith("sandbox-fleet:")}
        assert project_keys <= declared, (stack_file.name, project_keys - declared)
