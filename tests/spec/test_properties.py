"""Property-based: any valid fleet reads back equal after dump_yaml, and loading does not
depend on entry order or on which other entries exist."""

from __future__ import annotations

import datetime as dt
import json
import string
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from components.spec import FleetSpec, SpecError, load_spec_text
from components.spec.credentials import SECRET_PATTERNS
from components.spec.models import (
    RESERVED_CONTAINER_PORTS,
    Capability,
    DataPolicy,
    Mode,
    Runtime,
    Task,
)
from components.spec.reserved import DERIVED_SUFFIXES, RESERVED_NAMES
from tests.support.spec_dump import dump_yaml, safe_dump, to_document

from .conftest import REPO, TODAY

SCHEMA = jsonschema.Draft202012Validator(json.loads((REPO / "sandboxes.schema.json").read_text()))

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,18}[a-z0-9])?", fullmatch=True).filter(
    lambda n: n not in RESERVED_NAMES and not n.endswith(tuple(DERIVED_SUFFIXES))
)
dns_labels = st.from_regex(r"[a-z](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
branches = st.lists(
    st.from_regex(r"[a-z0-9][a-z0-9_-]{0,8}(?:\.[a-z0-9]{1,3})?", fullmatch=True),
    min_size=1,
    max_size=3,
).map("/".join)
repos = st.sampled_from(
    [
        "https://github.com/acme/app.git",
        "git@github.com:acme/web.git",
        "ssh://git@git.example.com:2222/team/tool.git",
        "file:///srv/git/mono.git",
    ]
)
sizes = st.one_of(
    st.integers(64, 8192).map(lambda n: f"{n}Mi"),
    st.integers(1, 512).map(lambda n: f"{n}Gi"),
    st.tuples(st.integers(1, 64), st.integers(1, 9)).map(lambda t: f"{t[0]}.{t[1]}G"),
    st.integers(70, 9000).map(lambda n: f"{n}M"),
)
cpus = st.one_of(st.integers(1, 64), st.floats(0.01, 256, allow_nan=False, allow_infinity=False))
resources = st.fixed_dictionaries(
    {},
    optional={"cpus": cpus, "memory": sizes, "pids": st.integers(32, 65536)},
)
env_names = st.from_regex(r"[A-Z_][A-Z0-9_]{0,10}", fullmatch=True)
TRICKY_TEXT = [
    " padded ",
    "",
    "yes",
    "off",
    "0755",
    "3.10",
    "1e3",
    "null",
    "~",
    "- dash",
    "# hash",
    "key: value",
    "'single'",
    '"double"',
    "two\nlines",
    "@at",
    "%pct",
]
env_values = st.one_of(
    st.sampled_from(TRICKY_TEXT),
    st.text(string.ascii_letters + string.digits + " -_./:=@,+%éü你", max_size=30),
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.integers(-(10**7), 10**7).map(lambda n: n / 1000),
)
envs = st.dictionaries(env_names, env_values, max_size=4)
app_ports = st.lists(
    st.integers(1, 65535).filter(lambda p: p not in RESERVED_CONTAINER_PORTS),
    max_size=16,
    unique=True,
)
enum = st.sampled_from
# `any`, or a list: the names sandboxes ask for, exact and wildcards, none twice.
egress = st.one_of(
    st.just("any"),
    st.lists(
        st.sampled_from(["github.com", "pypi.org", "*.pypi.org", "*.githubusercontent.com",
                         "registry.npmjs.org", "xn--bcher-kva.example"]),
        unique=True, max_size=4,
    ),
)  # fmt: skip
defaults = st.fixed_dictionaries(
    {},
    optional={
        "repo": repos,
        "base": branches,
        "runtime": enum([r.value for r in Runtime]),
        "data": enum([d.value for d in DataPolicy]),
        "host": dns_labels,
        "resources": resources,
        "env": envs,
        "egress": egress,
    },
)


@st.composite
def entries(draw: st.DrawFn) -> dict[str, Any]:
    entry: dict[str, Any] = draw(
        st.fixed_dictionaries(
            {"task": enum([t.value for t in Task])},
            optional={
                "mode": enum([m.value for m in Mode]),
                "branch": branches,
                "repo": repos,
                "base": branches,
                "resources": resources,
                "ports": app_ports,
                "expires": st.dates(TODAY, TODAY + dt.timedelta(days=3650)),
                "runtime": enum([r.value for r in Runtime]),
                "env": envs,
                "data": enum([d.value for d in DataPolicy]),
                "host": dns_labels,
                "egress": egress,
            },
        )
    )
    taken = set(entry.get("env", {}))
    secrets = draw(st.lists(env_names.filter(lambda s: s[0] != "_"), max_size=3, unique=True))
    if secrets := [s for s in secrets if s not in taken]:
        entry["secrets"] = secrets
    return entry


# What any entry may need of its host: every generated host has it, so that every entry can be
# placed anywhere; the rest of the set is drawn (tests/spec/bad holds the refusals).
NEEDED = [Capability.HEADLESS.value, Capability.VISUAL.value, Capability.DAYTONA.value]
capacities = st.fixed_dictionaries({}, optional={"cpus": st.integers(1, 512), "memory": sizes})
host_entries = st.fixed_dictionaries(
    {"capabilities": st.lists(enum(["gpu", "model"]), unique=True).map(lambda c: NEEDED + c)},
    optional={"capacity": capacities},
)


@st.composite
def with_hosts(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` with `hosts:`, one headquarters among several, and every `host:` one of them."""
    declared: dict[str, dict[str, Any]] = draw(
        st.dictionaries(dns_labels, host_entries, min_size=1, max_size=4)
    )
    if len(declared) > 1:
        declared[draw(st.sampled_from(sorted(declared)))]["headquarters"] = True
    chosen = st.sampled_from(sorted(declared))
    for entry in [doc.get("defaults", {}), *doc["sandboxes"].values()]:
        if "host" in entry:
            entry["host"] = draw(chosen)
    return {**doc, "hosts": declared}


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    fleet = draw(st.dictionaries(names, entries(), max_size=6))
    # Pin some entries below the derived range (20000+), 20 ports apart: blocks hold at most
    # 18 ports, so pinned blocks never overlap each other or a derived one.
    for slot, name in enumerate(sorted(fleet)):
        if draw(st.booleans()):
            fleet[name]["ssh_port"] = 1100 + 20 * slot
    doc: dict[str, Any] = {"version": 1}
    if draw(st.booleans()):
        doc["defaults"] = draw(defaults)
    doc["sandboxes"] = fleet
    return draw(with_hosts(doc)) if draw(st.booleans()) else doc


def render(doc: dict[str, Any]) -> str:
    return safe_dump(doc, sort_keys=False)


REJECTED = ("overlap", "is not on the list", "cannot be cloned through it", "set by the fleet in")


def load(text: str) -> FleetSpec:
    try:
        return load_spec_text(text, today=TODAY)
    except SpecError as exc:
        # Two derived blocks may collide by chance (the spec then asks to pin one), and a list
        # may lack the repo's host (or take a repo only ssh reaches, or a proxy variable):
        # not fleets this generator means to produce. Anything else is a real failure.
        if all(any(why in p.message for why in REJECTED) for p in exc.problems):
            reject()
        raise


def valid_text(doc: dict[str, Any]) -> str:
    text = render(doc)
    if any(rx.search(text) for _, rx in SECRET_PATTERNS):
        reject()  # random text that happens to look like a key is refused, rightly
    return text


@SETTINGS
@given(documents())
def test_dump_then_load_gives_back_an_equal_fleet(doc: dict[str, Any]) -> None:
    first = load(valid_text(doc))
    assert [s.name for s in first.sandboxes] == sorted(doc["sandboxes"])
    dumped = dump_yaml(first)
    assert "defaults" not in yaml.safe_load(dumped)
    again = load_spec_text(dumped, today=TODAY)
    assert again == first
    assert dump_yaml(again) == dumped  # canonical: a second round changes nothing
    assert to_document(again) == to_document(first)
    assert SCHEMA.is_valid(to_document(first))  # what editors check agrees with the loader


@SETTINGS
@given(documents(), st.randoms(use_true_random=False))
def test_loading_is_deterministic_and_independent_of_entry_order(
    doc: dict[str, Any], rnd: Any
) -> None:
    first = load(valid_text(doc))
    assert load_spec_text(valid_text(doc), today=TODAY) == first
    shuffled = list(doc["sandboxes"].items())
    rnd.shuffle(shuffled)
    moved = {**doc, "sandboxes": dict(shuffled)}
    assert load_spec_text(valid_text(moved), today=TODAY) == first


@SETTINGS
@given(documents(), st.data())
def test_a_sandbox_does_not_change_when_other_entries_come_or_go(
    doc: dict[str, Any], data: st.DataObject
) -> None:
    full = load(valid_text(doc)).by_name()
    keep = data.draw(st.sets(st.sampled_from(sorted(full))) if full else st.just(set()))
    subset = {**doc, "sandboxes": {n: e for n, e in doc["sandboxes"].items() if n in keep}}
    part = load_spec_text(valid_text(subset), today=TODAY).by_name()
    assert part == {n: full[n] for n in keep}


@SETTINGS
@given(documents(), dns_labels, host_entries)
def test_declaring_another_host_moves_no_sandbox(
    doc: dict[str, Any], name: str, entry: dict[str, Any]
) -> None:
    """Placement is written down (`host:`, defaults.host, the headquarters), never derived from
    the set of hosts: a host joining changes where no existing entry lands, or is refused when
    it leaves the fleet without a headquarters (the lone host was one without saying so)."""
    if "hosts" not in doc or name in doc["hosts"]:
        reject()
    before = load(valid_text(doc))
    after_doc = {**doc, "hosts": {**doc["hosts"], name: entry}}
    if len(doc["hosts"]) == 1 and not any(h.get("headquarters") for h in doc["hosts"].values()):
        with pytest.raises(SpecError, match="none is headquarters"):
            load_spec_text(valid_text(after_doc), today=TODAY)
        return
    after = load_spec_text(valid_text(after_doc), today=TODAY)
    assert after.sandboxes == before.sandboxes
    assert after.hosts.headquarters == before.hosts.headquarters
