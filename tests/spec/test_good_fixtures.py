"""Good fixtures load, and resolve to exactly the values a plane will use."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from components.spec import (
    Capability,
    DataPolicy,
    FleetSpec,
    HostPorts,
    Mode,
    Role,
    Runtime,
    SandboxSpec,
    SpecError,
    Task,
    load_spec,
    load_spec_text,
)
from components.spec.ports import BLOCK_OVERHEAD, FIRST_PORT, LAST_PORT

from .conftest import GOOD, REPO, TODAY

GiB, MiB = 1024**3, 1024**2


def load(name: str, today: dt.date = TODAY) -> FleetSpec:
    return load_spec(GOOD / name, today=today, display_name=name)


def by_name(name: str) -> dict[str, SandboxSpec]:
    return load(name).by_name()


@pytest.mark.parametrize("path", sorted(GOOD.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_good_fixture_loads_and_names_its_file(path: Path) -> None:
    spec = load_spec(path, today=TODAY, display_name=path.name)
    assert spec.file == path.name
    names = [s.name for s in spec.sandboxes]
    assert names == sorted(names)


def test_enough_good_fixtures() -> None:
    assert len(list(GOOD.glob("*.yaml"))) >= 8


def test_minimal_entry_gets_builtin_defaults() -> None:
    (s,) = load("minimal.yaml").sandboxes
    assert s.name == "audit-auth"
    assert (s.task, s.mode, s.runtime) == (Task.AUDIT, Mode.HEADLESS, Runtime.DOCKER)
    assert s.branch == "audit-auth"  # branch defaults to the sandbox name
    assert s.base == "main"
    assert (s.cpus, s.memory_bytes, s.pids, s.memory) == (1.0, GiB, 512, "1Gi")
    assert s.repo is None and s.host is None and s.expires is None
    assert (s.ports, s.env, s.secrets) == ((), (), ())
    assert s.data is DataPolicy.KEEP
    assert not s.ssh_port_pinned
    assert s.line == 3


def test_readme_example_is_the_fixture_and_resolves() -> None:
    readme = (REPO / "README.md").read_text()
    match = re.search(r"```yaml\n(.*?)```", readme, re.S)
    assert match, "README.md has no ```yaml example"
    assert (GOOD / "readme-example.yaml").read_text() == match.group(1), (
        "README example changed: copy it to tests/spec/good/readme-example.yaml"
    )
    fleet = by_name("readme-example.yaml")
    assert sorted(fleet) == ["audit-auth", "fix-login-ui", "nightly-etl"]
    audit, ui, etl = fleet["audit-auth"], fleet["fix-login-ui"], fleet["nightly-etl"]
    assert (audit.mode, audit.branch, audit.repo, audit.base) == (
        Mode.HEADLESS,
        "audit/auth",
        "https://github.com/acme/app.git",
        "main",
    )
    assert (ui.mode, ui.branch, ui.cpus, ui.memory, ui.pids, ui.ports) == (
        Mode.VISUAL,
        "fix-login-ui",
        2.0,
        "4Gi",
        512,
        (3000,),
    )
    assert ui.expires == dt.date(2026, 12, 31)
    hp = ui.host_ports
    assert hp.novnc == hp.ssh + 1 and hp.apps == ((3000, hp.ssh + 2),)
    assert audit.host_ports.novnc is None and audit.host_ports.apps == ()
    assert (etl.runtime, etl.data, etl.host) == (Runtime.MODAL, DataPolicy.DISCARD, "hq")
    assert (etl.env, etl.secrets) == ((("LOG_LEVEL", "debug"),), ("GITHUB_TOKEN",))
    assert (etl.cpus, etl.memory) == (1.0, "1Gi")


def test_repo_sandboxes_yaml_loads() -> None:
    spec = load_spec(REPO / "sandboxes.yaml", today=TODAY, display_name="sandboxes.yaml")
    assert spec.file == "sandboxes.yaml" and spec.sandboxes  # the shipped fleet is not empty


def test_explicit_empty_fleet_is_valid_and_empty() -> None:
    spec = load("empty-fleet.yaml")
    assert spec.sandboxes == () and spec.expired == ()


def test_routing_table_for_all_eight_tasks() -> None:
    fleet = by_name("all-tasks.yaml")
    got = {s.task.value: s.mode.value for s in fleet.values()}
    assert got == {
        "audit": "headless",
        "refactor": "headless",
        "test": "headless",
        "data-processing": "headless",
        "frontend-dev": "visual",
        "visual-debug": "visual",
        "shopping": "visual",
        "browser-automation": "visual",
    }
    for s in fleet.values():  # visual sandboxes get a noVNC port, headless ones none
        assert (s.host_ports.novnc is not None) == (s.mode is Mode.VISUAL)


def test_mode_overrides_routing_both_ways() -> None:
    fleet = by_name("mode-override.yaml")
    assert (fleet["refactor-nav"].task, fleet["refactor-nav"].mode) == (Task.REFACTOR, Mode.VISUAL)
    assert fleet["refactor-nav"].host_ports.novnc == fleet["refactor-nav"].host_ports.ssh + 1
    scrape = fleet["scrape-prices"]
    assert (scrape.task, scrape.mode, scrape.host_ports.novnc) == (
        Task.BROWSER_AUTOMATION,
        Mode.HEADLESS,
        None,
    )


def test_defaults_are_inherited_and_merged_per_field() -> None:
    fleet = by_name("defaults-inheritance.yaml")
    plain, own = fleet["inherits-all"], fleet["overrides-some"]
    assert (plain.repo, plain.base, plain.runtime, plain.data, plain.host) == (
        "git@github.com:acme/app.git",
        "develop",
        Runtime.DOCKER,
        DataPolicy.DISCARD,
        "gpu-box",
    )
    assert (plain.cpus, plain.memory_bytes, plain.pids) == (2.0, 2 * GiB, 512)
    assert plain.env == (("LOG_LEVEL", "info"), ("NODE_ENV", "development"))
    assert (own.repo, own.base, own.runtime, own.data, own.host) == (
        "https://github.com/acme/web.git",
        "main",
        Runtime.DAYTONA,
        DataPolicy.KEEP,
        "laptop",
    )
    # resources merge key by key: cpus from defaults, memory and pids from the entry
    assert (own.cpus, own.memory_bytes, own.pids) == (2.0, 8 * GiB, 2048)
    # env merges key by key, the entry wins, the result is sorted, scalars become text
    assert own.env == (
        ("API_URL", "http://localhost:8080"),
        ("DEBUG", "true"),
        ("LOG_LEVEL", "debug"),
        ("NODE_ENV", "development"),
        ("RATIO", "0.25"),
        ("WORKERS", "4"),
    )
    assert own.secrets == ("GITHUB_TOKEN", "OPENAI_API_KEY")


def test_pinned_ssh_port_fixes_the_whole_block() -> None:
    fleet = by_name("pinned-ssh-port.yaml")
    ui, audit = fleet["fix-login-ui"], fleet["audit-auth"]
    assert ui.ssh_port_pinned and audit.ssh_port_pinned
    assert ui.host_ports == HostPorts(ssh=2200, novnc=2201, apps=((3000, 2202), (8080, 2203)))
    assert audit.host_ports == HostPorts(ssh=2205, novnc=None, apps=())


def test_expired_entries_are_left_out_and_named() -> None:
    spec = load("expired-entry.yaml")  # today = 2026-01-15
    assert [s.name for s in spec.sandboxes] == ["last-day-today", "next-month"]
    assert spec.expired == ("spike-search",)
    assert spec.by_name()["next-month"].expires == dt.date(2026, 2, 15)
    later = load("expired-entry.yaml", today=dt.date(2026, 1, 16))
    assert [s.name for s in later.sandboxes] == ["next-month"]
    assert later.expired == ("last-day-today", "spike-search")


def test_unicode_comments_and_values_are_fine() -> None:
    (s,) = load("unicode-comments.yaml").sandboxes
    assert s.name == "cafe-ui-fix"
    assert s.env == (("GREETING", "¡Hola, señor! 你好"),)


def test_utf8_bom_is_accepted_and_does_not_shift_columns() -> None:
    text = (GOOD / "minimal.yaml").read_bytes()
    assert load_spec_text(b"\xef\xbb\xbf" + text, today=TODAY) == load_spec_text(text, today=TODAY)
    with pytest.raises(SpecError) as info:
        load_spec_text(b"\xef\xbb\xbfversion: 1\nsandboxes:\n  x:\n    task: audti\n")
    assert [(p.line, p.col, p.path) for p in info.value.problems] == [(4, 11, "sandboxes.x.task")]


# --- host ports: derived from the name only ---------------------------------------------------

ENTRIES = {
    "fix-login-ui": "{task: visual-debug, ports: [3000, 8080]}",
    "audit-auth": "{task: audit}",
    "shop-compare": "{task: shopping, ports: [4000]}",
    "etl-nightly": "{task: data-processing}",
    "refactor-db": "{task: refactor, ports: [5432]}",
}


def fleet_text(names: list[str]) -> str:
    lines = ["version: 1", "sandboxes:"] + [f"  {n}: {ENTRIES[n]}" for n in names]
    return "\n".join(lines) + "\n"


def host_ports(names: list[str]) -> dict[str, HostPorts]:
    spec = load_spec_text(fleet_text(names), today=TODAY)
    return {s.name: s.host_ports for s in spec.sandboxes}


def test_host_ports_are_stable_when_other_entries_come_go_or_move() -> None:
    names = list(ENTRIES)
    full = host_ports(names)
    assert len({hp.ssh for hp in full.values()}) == len(names)
    for hp in full.values():
        assert FIRST_PORT <= hp.ssh <= LAST_PORT
    assert host_ports(list(reversed(names))) == full
    for i, removed in enumerate(names):
        rest = names[:i] + names[i + 1 :]
        assert host_ports(rest) == {n: full[n] for n in rest}, f"removing {removed} moved ports"
    for name in names:
        assert host_ports([name]) == {name: full[name]}


def test_host_port_block_layout_ssh_then_novnc_then_apps() -> None:
    ui = host_ports(["fix-login-ui"])["fix-login-ui"]
    assert ui.novnc == ui.ssh + 1
    assert ui.apps == ((3000, ui.ssh + BLOCK_OVERHEAD), (8080, ui.ssh + BLOCK_OVERHEAD + 1))


def test_adding_app_ports_never_moves_ssh_or_novnc() -> None:
    def ports_with(app_ports: str) -> HostPorts:
        entry = f"{{task: visual-debug, ports: [{app_ports}]}}"
        text = f"version: 1\nsandboxes:\n  fix-login-ui: {entry}\n"
        (s,) = load_spec_text(text, today=TODAY).sandboxes
        return s.host_ports

    one, many = ports_with("3000"), ports_with(", ".join(str(3000 + i) for i in range(16)))
    assert (many.ssh, many.novnc) == (one.ssh, one.novnc)
    assert many.apps[0] == one.apps[0] and many.apps[-1] == (3015, one.ssh + BLOCK_OVERHEAD + 15)


def test_a_sandbox_named_env_keeps_its_numbers_and_env_keeps_its_text() -> None:
    sandbox = load("sandbox-named-env.yaml").sandboxes[0]
    assert sandbox.name == "env" and sandbox.ssh_port_pinned and sandbox.host_ports.ssh == 30000
    assert dict(sandbox.env) == {"PYTHON": "3.10", "MODE": "0755"}


# --- hosts: a fleet on several hosts -----------------------------------------------------------


def test_every_entry_lands_on_one_declared_host() -> None:
    spec = load("hosts.yaml")
    assert {s.name: s.host for s in spec.sandboxes} == {
        "audit-auth": "local",  # no `host:`: headquarters
        "fix-login-ui": "desk",
        "refactor-db": "desk",
        "train-etl": "gpu-box",
    }
    hosts = spec.hosts
    assert hosts.names == ["desk", "gpu-box", "local"]
    hq = hosts.get("local")
    assert hq is not None and hq.headquarters and hosts.headquarters == hq
    assert (hq.cpus, hq.memory_bytes) == (8.0, 16 * GiB)
    assert hq.capabilities == (Capability.HEADLESS, Capability.MODEL)  # sorted
    assert [hosts.role_of(n) for n in ("local", "desk", "gpu-box")] == [
        Role.HEADQUARTERS,
        Role.MEMBER,
        Role.MEMBER,
    ]
    desk = hosts.get("desk")
    assert desk is not None and (desk.cpus, desk.memory_bytes, desk.headquarters) == (
        None,
        None,
        False,
    )


def test_a_file_without_hosts_places_nothing_and_has_one_role() -> None:
    spec = load("readme-example.yaml")
    assert not spec.hosts and spec.hosts.role_of("anything") is Role.SINGLE
    assert spec.by_name()["audit-auth"].host is None  # whichever stack reads the file


def test_a_lone_host_is_its_own_headquarters_and_takes_every_entry() -> None:
    text = "version: 1\nhosts:\n  box: {capabilities: [headless]}\nsandboxes:\n  a: {task: audit}\n"
    spec = load_spec_text(text, today=TODAY)
    box = spec.hosts.get("box")
    assert box is not None and box.headquarters and spec.hosts.role_of("box") is Role.SINGLE
    assert [s.host for s in spec.sandboxes] == ["box"]


def test_defaults_host_places_the_entries_without_their_own() -> None:
    text = (
        "version: 1\ndefaults: {host: desk}\nhosts:\n"
        "  hq: {capabilities: [headless], headquarters: true}\n"
        "  desk: {capabilities: [headless, visual]}\n"
        "sandboxes:\n  a: {task: audit}\n  b: {task: audit, host: hq}\n"
    )
    assert {s.name: s.host for s in load_spec_text(text, today=TODAY).sandboxes} == {
        "a": "desk",
        "b": "hq",
    }


def test_modal_entries_need_nothing_of_their_host() -> None:
    text = (
        "version: 1\nhosts:\n  hq: {capabilities: [model]}\n"
        "sandboxes:\n  batch: {task: data-processing, runtime: modal}\n"
    )
    (batch,) = load_spec_text(text, today=TODAY).sandboxes
    assert batch.host == "hq"
