"""`egress:`: where a sandbox may open connections. `any` (the default), or a list of host names
and `*.domain` wildcards that the Docker plane's egress gateway enforces (docs/egress.md).

A name is a host name as DNS writes it, in lowercase: no scheme, port, path or address. A
wildcard `*.pypi.org` is every name below pypi.org, not pypi.org itself (list both for both).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag, WithJsonSchema

from ..contract import PROXY_ENV
from .problems import Problem
from .source import Path_, Source, dotted

if TYPE_CHECKING:
    from .loader import SandboxSpec

ANY: Literal["any"] = "any"
MAX_RULES = 256
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
WILDCARD = "*."
# The tags pydantic adds to an error's location inside `egress` (see messages.py).
TAGS = ("any", "list")


def _host_problem(value: str) -> str | None:
    """Why `value` is not a host name the gateway can match, or None."""
    if "://" in value:
        host = value.split("://", 1)[1].split("/", 1)[0]
        return f"'{value}' is a URL; write the host name alone: '{host}'"
    if "/" in value:
        return f"'{value}' has a path; write the host name alone: '{value.split('/', 1)[0]}'"
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        pass
    else:
        return (
            f"'{value}' is an IP address; egress lists names only (the gateway refuses every "
            "literal address, which could lead anywhere, the host included)"
        )
    if re.fullmatch(r".+:\d+", value):
        return (
            f"'{value}' has a port; write '{value.rsplit(':', 1)[0]}' (the gateway allows ports "
            "80 and 443 to every listed name)"
        )
    if not value.isascii():
        return f"'{value}' is not ASCII; write an international name in its xn-- form"
    if value != value.lower():
        return f"'{value}' has capitals; write it in lowercase: '{value.lower()}'"
    labels = value.split(".")
    if len(value) > 253 or not all(_LABEL.match(label) for label in labels):
        return (
            f"'{value}' is not a host name (dot-separated labels of lowercase letters, digits "
            "and '-', e.g. github.com)"
        )
    return None


def _rule(value: str) -> str:
    host = value.removeprefix(WILDCARD)
    if value == "*":
        raise ValueError("'*' allows everything; write `egress: any` instead of a list")
    if "*" in host:
        raise ValueError(
            f"'{value}': a wildcard is '*.' before a domain, e.g. '*.pypi.org' (every name "
            "below pypi.org)"
        )
    if problem := _host_problem(host):
        raise ValueError(problem)
    if value.startswith(WILDCARD) and "." not in host:
        raise ValueError(
            f"'{value}' covers a whole top-level domain; name a domain below it "
            f"(e.g. '*.example.{host}')"
        )
    return value


def _distinct(rules: list[str]) -> list[str]:
    twice = sorted({r for r in rules if rules.count(r) > 1})
    if twice:
        raise ValueError(f"{', '.join(twice)} is listed twice")
    return rules


def _shape(value: Any) -> str:
    return "any" if isinstance(value, str) else "list"


Rule = Annotated[str, AfterValidator(_rule)]
Egress = Annotated[
    Annotated[Literal["any"], Tag("any")]
    | Annotated[list[Rule], Field(max_length=MAX_RULES), AfterValidator(_distinct), Tag("list")],
    Discriminator(_shape),
    WithJsonSchema(
        {
            "oneOf": [
                {"const": ANY, "description": "no restriction (the default)"},
                {
                    "type": "array",
                    "maxItems": MAX_RULES,
                    "items": {"type": "string", "pattern": r"^(\*\.)?[a-z0-9.-]+$"},
                    "description": "host names and *.domain wildcards; [] allows none",
                },
            ],
            "examples": [ANY, ["github.com", "*.pypi.org"]],
        }
    ),
]


def allows(rules: Iterable[str], host: str) -> bool:
    """Whether a list lets the sandbox reach `host` (exact name, or below a wildcard's domain)."""
    host = host.lower()
    return any(
        host.endswith("." + r.removeprefix(WILDCARD)) if r.startswith(WILDCARD) else host == r
        for r in rules
    )


def split_rules(rules: Iterable[str]) -> tuple[list[str], list[str]]:
    """(exact names, the domains of the wildcards): what the gateway's two lists hold."""
    rules = list(rules)
    names = [r for r in rules if not r.startswith(WILDCARD)]
    return names, [r.removeprefix(WILDCARD) for r in rules if r.startswith(WILDCARD)]


def _repo_host(repo: str) -> str | None:
    """The host an https repo is fetched from (None for any other kind of repo)."""
    match = re.match(r"^https://([^/:]+)", repo)
    return match[1].lower() if match else None


def clone_problem(rules: tuple[str, ...], repo: str | None) -> str | None:
    """Why the sandbox could not clone its repo through the gateway, or None."""
    if repo is None:
        return None
    host = _repo_host(repo)
    if host is None:
        return (
            f"the gateway carries HTTP and HTTPS only, so repo {repo!r} cannot be cloned "
            "through it; give an https:// repo or `egress: any`"
        )
    if not allows(rules, host):
        return f"the repo's host '{host}' is not on the list; add '{host}' to egress"
    return None


def problems(sandboxes: Iterable[SandboxSpec], source: Source) -> list[Problem]:
    """An entry with a list must still clone its repo through the gateway, and cannot set the
    proxy variables the gateway needs: each reported where it is written."""
    found = []
    for s in sandboxes:
        if s.egress is None:
            continue
        entry = source.data["sandboxes"][s.name]
        at: Path_ = ("sandboxes", s.name, "egress")
        if problem := clone_problem(s.egress, s.repo):
            if "egress" not in entry:
                at, problem = ("defaults", "egress"), f"sandboxes.{s.name}: {problem}"
            found.append(Problem(*source.position(at), dotted(at), problem, source.file))
        for var in sorted({*dict(s.env), *s.secrets} & set(PROXY_ENV)):
            if var in s.secrets:
                at = ("sandboxes", s.name, "secrets")
            else:
                at = ("sandboxes", s.name, "env", var)
                if var not in entry.get("env", {}):
                    at = ("defaults", "env", var)
            message = (
                f"{var} is set by the fleet in a sandbox with an egress list (it points at the "
                f"gateway); drop it"
                + (f" (sandboxes.{s.name} has a list)" if at[0] == "defaults" else "")
            )
            found.append(
                Problem(*source.position(at, of_key=True), dotted(at), message, source.file)
            )
    return found
