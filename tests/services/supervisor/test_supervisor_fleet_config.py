"""The supervisor's place in a fleet, from the environment the fleet sets: its host, capabilities,
role, the fleet's sandboxes and the bus. Each mistake names the variable and what is allowed."""

from __future__ import annotations

import json

import pytest
from supervisor.config import ConfigError, load_config
from supervisor.fleet_config import FleetConfig

from .test_supervisor_config import with_image

BUS = {
    "SUPERVISOR_HOST_NAME": "desk",
    "SUPERVISOR_BUS_URL": "redis://100.64.0.1:6379/0",
    "SUPERVISOR_BUS_PASSWORD": "s3cret",
}


def load(**env: str) -> FleetConfig:
    return load_config(with_image(SUPERVISOR_RUNTIME="stub", **env)).fleet


def test_a_single_host_needs_nothing_of_the_bus() -> None:
    fleet = load()
    assert (fleet.role, fleet.on_bus, fleet.sandboxes, fleet.capabilities) == (
        "single", False, None, ()
    )  # fmt: skip
    assert load(SUPERVISOR_ROLE=" ").role == "single"


def test_a_member_and_headquarters_read_everything_the_fleet_gives() -> None:
    sandboxes = {"web": "hq", "ui": "desk"}
    fleet = load(SUPERVISOR_ROLE="headquarters", SUPERVISOR_FLEET_SANDBOXES=json.dumps(sandboxes),
                 SUPERVISOR_HOST_CAPABILITIES="gpu, visual,headless,gpu", **BUS)  # fmt: skip
    assert (fleet.role, fleet.host_name, fleet.bus_url) == (
        "headquarters", "desk", "redis://100.64.0.1:6379/0"
    )  # fmt: skip
    assert fleet.capabilities == ("headless", "visual", "gpu")  # the schema's order, once each
    assert (fleet.host_of("ui"), fleet.host_of("nope")) == ("desk", None)
    assert "s3cret" not in repr(fleet)
    assert load(SUPERVISOR_ROLE="member", **BUS).sandboxes is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SUPERVISOR_ROLE": "boss"},
         "SUPERVISOR_ROLE='boss' is not a known role; allowed values: single, headquarters, "
         "member"),
        ({"SUPERVISOR_HOST_CAPABILITIES": "gpu,quantum"},
         "SUPERVISOR_HOST_CAPABILITIES='gpu,quantum': unknown capability 'quantum'; allowed: "
         "headless, visual, gpu, model, daytona"),
        ({"SUPERVISOR_HOST_NAME": "-desk"}, "SUPERVISOR_HOST_NAME='-desk' is invalid: letters"),
        ({"SUPERVISOR_ROLE": "member", **BUS, "SUPERVISOR_HOST_NAME": ""},
         "SUPERVISOR_HOST_NAME is not set: SUPERVISOR_ROLE=member reaches the fleet's bus as "
         "its host"),
        ({"SUPERVISOR_ROLE": "member", **BUS, "SUPERVISOR_BUS_URL": ""},
         "SUPERVISOR_BUS_URL is not set: SUPERVISOR_ROLE=member reaches the fleet's bus "
         "(redis://ADDRESS:PORT/0)"),
        ({"SUPERVISOR_ROLE": "member", **BUS, "SUPERVISOR_BUS_PASSWORD": ""},
         "SUPERVISOR_BUS_PASSWORD is not set: SUPERVISOR_ROLE=member reaches the fleet's bus, "
         "which asks for one"),
        ({"SUPERVISOR_ROLE": "headquarters", **BUS},
         "SUPERVISOR_FLEET_SANDBOXES is not set: headquarters routes each task to the host of "
         "its sandbox"),
        ({"SUPERVISOR_BUS_URL": "http://hq:6379"},
         "SUPERVISOR_BUS_URL='http://hq:6379' is invalid: expected redis://ADDRESS:PORT/0"),
        ({"SUPERVISOR_BUS_URL": "redis://hq/0"},
         "SUPERVISOR_BUS_URL='redis://hq/0' is invalid: expected redis://ADDRESS:PORT/0"),
        ({"SUPERVISOR_BUS_URL": "redis://hq:6379/zero"},
         "SUPERVISOR_BUS_URL='redis://hq:6379/zero': the database must be a number"),
        ({"SUPERVISOR_FLEET_SANDBOXES": "{web: hq}"},
         "SUPERVISOR_FLEET_SANDBOXES is not valid JSON: Expecting property name"),
        ({"SUPERVISOR_FLEET_SANDBOXES": '["web"]'},
         'SUPERVISOR_FLEET_SANDBOXES must be a JSON object {"SANDBOX": "HOST", ...}, got list'),
        ({"SUPERVISOR_FLEET_SANDBOXES": '{"web": 3}'},
         "SUPERVISOR_FLEET_SANDBOXES: the host of 'web' is 3: expected a host name"),
        ({"SUPERVISOR_FLEET_SANDBOXES": '{"a/b": "hq"}'},
         "SUPERVISOR_FLEET_SANDBOXES: sandbox name 'a/b' is invalid"),
    ],
)  # fmt: skip
def test_mistakes_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(**env)
    assert str(err.value).startswith(message)


def test_the_bus_password_never_shows_in_an_error() -> None:
    with pytest.raises(ConfigError) as err:
        load(SUPERVISOR_BUS_URL="redis://:hunter2@hq:6379/0")
    assert str(err.value) == (
        "SUPERVISOR_BUS_URL carries credentials: give the address only, the password goes in "
        "SUPERVISOR_BUS_PASSWORD"
    )
