"""Tailnet policy for the fleet: base policy loading, generated grants, merge and rendering.

Pure functions, no pulumi import, so the policy can be unit-tested and diffed offline.

The tailnet policy file is the whole tailnet's access control, so the fleet never writes it from
scratch: it merges a small generated part (tag owners and least-privilege grants from the owner to
exactly the fleet's published ports, and, in a fleet on several hosts, from its hosts to the
port of headquarters' bus) into a base policy kept in the repo. The rendered text is
JSON with trailing commas and HuJSON comment lines that fence the generated entries, so a rendered
policy pasted back in as the base merges to the same text again (fenced lines are dropped first).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.settings.tailnet import check_owner, check_tag, check_tag_owner

# Re-exported so callers find policy parsing and its errors in one place.
from .hujson import HuJSONError as HuJSONError
from .hujson import parse_hujson as parse_hujson

GENERATED_BEGIN = "// BEGIN sandbox-fleet generated (edit the fleet, not these lines)"
GENERATED_END = "// END sandbox-fleet generated"


Policy = dict[str, Any]


class PolicyError(ValueError):
    """The generated rules cannot be merged into the base policy without a conflict."""


def strip_generated(text: str, source: str = "<policy>") -> str:
    """Drop every fenced generated block (marker lines included) from a policy text."""
    kept: list[str] = []
    open_line = 0
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        marker = line.strip()
        if marker == GENERATED_BEGIN:
            if open_line:
                raise HuJSONError(f"{source}:{number}:1: generated block opened twice")
            open_line = number
            kept.append("\n")  # keep line numbers of the base's own lines
        elif marker == GENERATED_END:
            if not open_line:
                raise HuJSONError(f"{source}:{number}:1: generated block end without begin")
            open_line = 0
            kept.append("\n")
        else:
            kept.append("\n" if open_line else line)
    if open_line:
        raise HuJSONError(f"{source}:{open_line}:1: generated block is never closed")
    return "".join(kept)


def load_base_policy(text: str, source: str = "<policy>") -> Policy:
    """Parse a base policy file, ignoring any generated block a previous render left in it."""
    policy = parse_hujson(strip_generated(text, source), source)
    if not isinstance(policy, dict):
        raise HuJSONError(f"{source}:1:1: a tailnet policy must be a JSON object")
    for key, kind in (("grants", list), ("tagOwners", dict), ("groups", dict)):
        if key in policy and not isinstance(policy[key], kind):
            raise HuJSONError(f"{source}: {key!r} must be a JSON {kind.__name__}")
    return policy


@dataclass(frozen=True)
class FleetAccess:
    """What the fleet exposes on the tailnet, from which the generated rules follow."""

    owner: str  # user e-mail or group:<name>; never "*" or an autogroup
    host_tag: str
    published_ports: tuple[int, ...]  # host ports every published service binds to
    sandbox_tag: str | None = None  # set only when some sandbox joins the tailnet itself
    sandbox_ports: tuple[int, ...] = ()
    extra_tag_owners: tuple[str, ...] = ()  # e.g. an OAuth client's tag that mints the keys
    # What the fleet's hosts reach on one another: headquarters' bus, which a member's
    # supervisor pulls its tasks from (several hosts only). Every host carries host_tag.
    peer_ports: tuple[int, ...] = ()


def _ports(ports: Iterable[int]) -> list[str]:
    unique = sorted(set(ports))
    for port in unique:
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ValueError(f"port {port!r} is not a TCP port (1-65535)")
    return [f"tcp:{port}" for port in unique]


def _grant(src: str, tag: str, ports: Iterable[int]) -> dict[str, Any]:
    return {"src": [src], "dst": [tag], "ip": _ports(ports)}


def generate_rules(access: FleetAccess) -> tuple[dict[str, list[str]], list[dict[str, Any]]]:
    """The fleet's own tagOwners entries and grants, in a canonical order."""
    check_owner(access.owner)
    extras = sorted({check_tag_owner(o) for o in access.extra_tag_owners} - {access.owner})
    owners = [access.owner, *extras]
    tag_owners = {check_tag(access.host_tag): owners}
    grants = []
    if access.published_ports:
        grants.append(_grant(access.owner, access.host_tag, access.published_ports))
    if access.sandbox_tag is not None:
        if access.sandbox_tag == access.host_tag:
            raise ValueError("the sandbox tag must differ from the host tag")
        tag_owners[check_tag(access.sandbox_tag)] = list(owners)
        if access.sandbox_ports:
            grants.append(_grant(access.owner, access.sandbox_tag, access.sandbox_ports))
    if access.peer_ports:
        grants.append(_grant(access.host_tag, access.host_tag, access.peer_ports))
    return tag_owners, grants


@dataclass(frozen=True)
class MergedPolicy:
    """A base policy plus the generated entries, kept apart so rendering can fence them."""

    base: Policy
    tag_owners: dict[str, list[str]]  # generated entries not already present in the base
    grants: list[dict[str, Any]]

    def as_dict(self) -> Policy:
        """The policy as the tailnet will see it."""
        merged = dict(self.base)
        merged["tagOwners"] = {**self.base.get("tagOwners", {}), **self.tag_owners}
        merged["grants"] = [*self.base.get("grants", []), *self.grants]
        return merged


def _is_wild(entry: Any) -> bool:
    return isinstance(entry, str) and (entry == "*" or entry.endswith(":*"))


def wide_open_rules(base: Policy, tags: Iterable[str]) -> list[str]:
    """Base rules that open a fleet tag to anyone ("*" source) or on every port.

    Looks at `grants` (src/dst/ip) and legacy `acls` (src/dst "target:ports"). Host aliases and
    IP ranges in dst are not resolved; those stay the base author's responsibility.
    """
    fleet = set(tags)
    found: list[str] = []
    for i, grant in enumerate(base.get("grants", [])):
        dst = set(grant.get("dst", []))
        wild = any(_is_wild(x) for x in [*grant.get("src", []), *grant.get("ip", [])])
        if wild and ("*" in dst or fleet & dst):
            found.append(f"grants[{i}]")
    for i, acl in enumerate(base.get("acls", [])):
        targets = [str(d).rsplit(":", 1) for d in acl.get("dst", [])]
        ports = [t[1] for t in targets if len(t) == 2 and t[0] in fleet | {"*"}]
        if ports and ("*" in acl.get("src", []) or "*" in ports):
            found.append(f"acls[{i}]")
    return found


def _check_base(base: Policy, access: FleetAccess, tags: Iterable[str], source: str) -> None:
    if access.owner.startswith("group:") and access.owner not in base.get("groups", {}):
        raise PolicyError(
            f"{source}: owner {access.owner} is not defined under 'groups'; add it there "
            "(with its members) so the generated grants name a real group"
        )
    declared = set(base.get("tagOwners", {})) | set(tags)
    undeclared = sorted({o for o in access.extra_tag_owners if o.startswith("tag:")} - declared)
    if undeclared:
        raise PolicyError(
            f"{source}: tag owner(s) {', '.join(undeclared)} are not declared under 'tagOwners'; "
            "declare them in the base policy (a tag must exist before it can own others)"
        )
    wide = wide_open_rules(base, tags)
    if wide:
        raise PolicyError(
            f"{source}: {', '.join(wide)} open the fleet's tags ({', '.join(sorted(tags))}) "
            "to '*' or to every port; narrow them (specific sources, ports or tags) so the fleet "
            "is reachable only on its published ports"
        )


def merge_policy(base: Policy, access: FleetAccess, source: str = "<policy>") -> MergedPolicy:
    """Add the fleet's rules to `base` without dropping or rewriting any of the base's own."""
    tag_owners, grants = generate_rules(access)
    _check_base(base, access, tag_owners, source)
    existing = base.get("tagOwners", {})
    for tag, owners in tag_owners.items():
        if tag in existing and sorted(existing[tag]) != sorted(owners):
            raise PolicyError(
                f"{source}: tagOwners[{tag!r}] is {existing[tag]!r} in the base policy but the "
                f"fleet needs {owners!r}; remove the entry from the base (the fleet declares it) "
                "or choose another tag in the tailnet settings"
            )
    new_owners = {tag: owners for tag, owners in tag_owners.items() if tag not in existing}
    return MergedPolicy(base=base, tag_owners=new_owners, grants=grants)


def _dump(value: Any, indent: int) -> str:
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return text.replace("\n", "\n" + " " * indent)


def _fenced(base: list[str], generated: list[str], pad: str) -> list[str]:
    """Entries one per line with trailing commas; the generated ones between the markers."""
    lines = [f"{pad}{entry}," for entry in base]
    if generated:
        lines += [pad + GENERATED_BEGIN, *(f"{pad}{entry}," for entry in generated)]
        lines.append(pad + GENERATED_END)
    return lines


def _members(obj: Mapping[str, Any], indent: int) -> list[str]:
    return [f"{json.dumps(k)}: {_dump(obj[k], indent)}" for k in sorted(obj)]


def _items(items: Sequence[Any], indent: int) -> list[str]:
    return [_dump(item, indent) for item in items]


def render_policy(merged: MergedPolicy) -> str:
    """Deterministic HuJSON text: sorted keys, base entries first, generated entries fenced."""
    sections = dict(merged.base)
    sections.setdefault("tagOwners", {})
    sections.setdefault("grants", [])
    lines = ["{"]
    for key in sorted(sections):
        value = sections[key]
        if key == "tagOwners":
            body = _fenced(_members(value, 4), _members(merged.tag_owners, 4), "    ")
            lines += [f"  {json.dumps(key)}: {{", *body, "  },"]
        elif key == "grants":
            body = _fenced(_items(value, 4), _items(merged.grants, 4), "    ")
            lines += [f"  {json.dumps(key)}: [", *body, "  ],"]
        else:
            lines.append(f"  {json.dumps(key)}: {_dump(value, 2)},")
    lines.append("}")
    return "\n".join(lines) + "\n"


def build_policy(base_text: str, access: FleetAccess, source: str = "<policy>") -> str:
    """Base policy text plus fleet access to the rendered policy text (the `Acl.acl` input)."""
    return render_policy(merge_policy(load_base_policy(base_text, source), access, source))
