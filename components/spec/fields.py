"""Value types of the spec (names, git refs, sizes, URLs); each error says got and allowed."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

from ..sizes import SIZE, parse_size
from .git_refs import branch_problem
from .reserved import RESERVED_NAMES, fleet_env_problem

NAME_MAX = 40
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def _sandbox_name(value: str) -> str:
    if len(value) > NAME_MAX:
        raise ValueError(f"name '{value}' is {len(value)} characters; at most {NAME_MAX} allowed")
    if not _DNS_LABEL.match(value):
        raise ValueError(
            f"name '{value}' is not a DNS label (lowercase letters, digits and '-', "
            "starting and ending with a letter or digit)"
        )
    if value in RESERVED_NAMES:
        raise ValueError(f"name '{value}' is reserved by the fleet itself; pick another")
    return value


def _dns_label(value: str) -> str:
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValueError(f"'{value}' is not a DNS label (lowercase letters, digits and '-')")
    return value


def _git_ref(value: str) -> str:
    """A branch name `git checkout -b` takes as it is (components/spec/git_refs.py)."""
    problem = branch_problem(value)
    if problem is not None:
        shown = f"'{value}'" if value.isprintable() else repr(value)
        raise ValueError(f"{shown} is not a valid git branch name: {problem}")
    return value


def _date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"'{value}' is not a real date (use YYYY-MM-DD)") from None
    if isinstance(value, dt.datetime):
        raise ValueError(f"'{value}' has a time of day; give a date only (YYYY-MM-DD)")
    return value


_REPO = re.compile(r"^(?:(?:https?|ssh|git|file)://[^\s]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+)$")
# A user name is fine for ssh (ssh://git@host); any user info over https/git, or a password
# anywhere, is a credential.
_URL_USERINFO = re.compile(r"^(?:(?:https?|git)://[^/@]+|ssh://[^/@:]+:[^/@]+)@")


# The parts git hands to ssh or to itself as arguments: a URL's user and host, scp-style
# user@host:path's three parts.
_URL_PARTS = re.compile(r"^[a-z]+://(?:(?P<user>[^/@]*)@)?(?P<host>[^/]*)")
_SCP_PARTS = re.compile(r"^(?P<user>[^@/]*)@(?P<host>[^:/]*):(?P<path>.*)$")


def _option_like(value: str) -> str | None:
    """Which part of a repo starts with '-': git or ssh would take it for an option (the
    `ssh://-oProxyCommand=...` of CVE-2017-1000117), whatever the clone command guards."""
    if value.startswith("-"):
        return f"'{value}' starts with '-', which git reads as an option, not a repository"
    parts = _URL_PARTS.match(value) or _SCP_PARTS.match(value)
    for name, part in (parts.groupdict() if parts else {}).items():
        if part and part.startswith("-"):
            return (
                f"'{value}': its {name} '{part}' starts with '-', which git and ssh read as an "
                "option, not a repository"
            )
    return None


def _repo_url(value: str) -> str:
    if dashed := _option_like(value):
        raise ValueError(dashed)
    if not _REPO.match(value):
        raise ValueError(
            f"'{value}' is not a git URL (https://, ssh://, git://, file:// or user@host:path)"
        )
    if _URL_USERINFO.match(value):
        raise ValueError(
            "repo URL carries credentials; keep the URL plain and give the token through "
            "`secrets:` (pulumi config set --secret NAME)"
        )
    return value


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# UPPER_SNAKE_CASE keeps secret keys apart from the camelCase settings in the same namespace.
_SECRET_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _not_reserved_env(name: str) -> str:
    if problem := fleet_env_problem(name):
        raise ValueError(problem)
    return name


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError(f"'{value}' is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)")
    return _not_reserved_env(value)


def _secret_name(value: str) -> str:
    if not _SECRET_NAME.match(value):
        # Something that is not even name-shaped is most likely the secret's value: not shown.
        shown = (
            f"'{value}'" if _ENV_NAME.match(value) else "this value (not shown: it may be a secret)"
        )
        raise ValueError(
            f"{shown} is not a secret name (UPPER_SNAKE_CASE, e.g. GITHUB_TOKEN); list the "
            "name of a Pulumi secret config key here, never its value"
        )
    return _not_reserved_env(value)


def _plain_value(value: Any) -> str:
    """Env values are plain scalars; stored as the text the container will see."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    kind = (
        "a list"
        if isinstance(value, list)
        else "a mapping"
        if isinstance(value, dict)
        else ("nothing (null)" if value is None else type(value).__name__)
    )
    raise ValueError(f"env values must be plain text, numbers or true/false; got {kind}")


EnvValue = Annotated[
    str, BeforeValidator(_plain_value),
    WithJsonSchema({"type": ["string", "number", "boolean"]}),
]  # fmt: skip
SandboxName = Annotated[
    str, AfterValidator(_sandbox_name),
    WithJsonSchema({"type": "string", "pattern": _DNS_LABEL.pattern, "maxLength": NAME_MAX}),
]  # fmt: skip
DnsLabel = Annotated[str, AfterValidator(_dns_label)]
GitRef = Annotated[str, AfterValidator(_git_ref)]
RepoUrl = Annotated[str, AfterValidator(_repo_url)]
EnvName = Annotated[str, AfterValidator(_env_name)]
SecretName = Annotated[str, AfterValidator(_secret_name)]
Size = Annotated[
    int, BeforeValidator(parse_size),
    WithJsonSchema({"type": "string", "pattern": SIZE.pattern, "examples": ["512Mi", "4Gi"]}),
]  # fmt: skip
Date = Annotated[
    dt.date, BeforeValidator(_date), WithJsonSchema({"type": "string", "format": "date"})
]
Port = Annotated[int, Field(ge=1, le=65535)]
HostPort = Annotated[int, Field(ge=1024, le=65000)]
