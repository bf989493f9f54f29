"""Stack settings: every `sandbox-fleet:*` config key, validated once, errors naming the key.

The bottom layer: nothing here imports the components that use the settings (a test holds it
to that). One module per group that has an owner elsewhere (`tailnet`, `preflight`), the
stack-wide groups and the reader in `stack`.
"""

from .bus import BusSettings
from .cross_checks import port_clashes
from .daytona import DaytonaSettings
from .daytona_server import DaytonaServerSettings
from .group import PROJECT, SettingsGroup
from .host import HostSettings, HostVariant, SshAddress, parse_ssh_address
from .modal import ModalSettings
from .preflight import PreflightSettings
from .services import ModelServerSettings, SupervisorSettings
from .stack import (
    BUS_SECRET_KEY,
    DAYTONA_SERVER_SECRET_KEY,
    DESKTOP_SECRET_KEY,
    GROUPS,
    MODEL_SERVER_API_KEY_KEY,
    OPTIONAL_GROUPS,
    SSH_SECRET_KEY,
    STACK_SECRETS,
    SUPERVISOR_API_TOKEN_KEY,
    SUPERVISOR_MODEL_KEY,
    SettingsError,
    StackSettings,
    all_keys,
    parse_settings,
    read_stack_settings,
)
from .tailnet import TailnetSettings

__all__ = [
    "BUS_SECRET_KEY",
    "DAYTONA_SERVER_SECRET_KEY",
    "DESKTOP_SECRET_KEY",
    "GROUPS",
    "MODEL_SERVER_API_KEY_KEY",
    "OPTIONAL_GROUPS",
    "PROJECT",
    "SSH_SECRET_KEY",
    "STACK_SECRETS",
    "SUPERVISOR_API_TOKEN_KEY",
    "SUPERVISOR_MODEL_KEY",
    "BusSettings",
    "DaytonaServerSettings",
    "DaytonaSettings",
    "HostSettings",
    "HostVariant",
    "ModalSettings",
    "ModelServerSettings",
    "PreflightSettings",
    "SettingsError",
    "SettingsGroup",
    "SshAddress",
    "StackSettings",
    "SupervisorSettings",
    "TailnetSettings",
    "all_keys",
    "parse_settings",
    "parse_ssh_address",
    "port_clashes",
    "read_stack_settings",
]
