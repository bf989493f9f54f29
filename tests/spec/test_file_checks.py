"""Whole-file checks that cannot live in a fixture (binary, huge, non-UTF-8, missing), the
error report itself, and open bugs pinned as strict xfails."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.spec import Problem, SpecError, load_spec, load_spec_text
from components.spec.problems import MAX_REPORTED
from components.spec.reading import MAX_BYTES

from .conftest import BAD, TODAY

VALID = b"version: 1\nsandboxes:\n  audit-auth:\n    task: audit\n"


def problems_of(raw: bytes, name: str = "sandboxes.yaml") -> list[Problem]:
    with pytest.raises(SpecError) as info:
        load_spec_text(raw, file=name, today=TODAY)
    return list(info.value.problems)


def only(raw: bytes) -> Problem:
    (problem,) = problems_of(raw)
    return problem


def test_file_over_one_mib_is_refused_and_exactly_one_mib_is_read() -> None:
    padding = b"# " + b"x" * 98 + b"\n"
    body = VALID + padding * ((MAX_BYTES - len(VALID)) // len(padding))
    body += b"#" * (MAX_BYTES - len(body) - 1) + b"\n"
    assert len(body) == MAX_BYTES
    assert [s.name for s in load_spec_text(body, today=TODAY).sandboxes] == ["audit-auth"]
    p = only(body + b"\n")
    assert (p.line, p.col, p.path) == (1, 1, "")
    assert "larger than 1024 KiB" in p.message


def test_nul_byte_is_refused_on_its_line() -> None:
    p = only(b"version: 1\nsandboxes:\n  a:\x00\n")
    assert (p.line, p.col) == (3, 1)
    assert "NUL bytes" in p.message and "binary" in p.message


def test_binary_file_is_refused() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"
    p = only(png)
    assert "binary, not YAML text" in p.message


def test_a_control_character_is_refused_where_it_is_not_raised_as_a_yaml_error() -> None:
    """PyYAML's reader refuses it while the loader is made: that used to escape as a
    traceback (yaml.reader.ReaderError), then as a two-line message at 1:1."""
    p = only(b"version: 1\nsandboxes:\n  a: {task: audit}\n# \x1b[31mred\n")
    assert (p.line, p.col, p.path) == (4, 3, "")
    assert p.message == "U+001B is a control character, which YAML text cannot hold; remove it"


def test_non_utf8_text_is_refused_with_the_byte_and_line() -> None:
    p = only(b"version: 1\n# caf\xe9 latin-1\nsandboxes: {}\n")
    assert (p.line, p.col) == (2, 1)
    assert p.message == "file is not UTF-8 text (byte 0xe9)"


@pytest.mark.parametrize(
    "raw", [b"", b"\n\n   \n", b"# nothing yet\n"], ids=["0b", "blank", "comment"]
)
def test_empty_file_stops_the_program_with_the_way_to_write_an_empty_fleet(raw: bytes) -> None:
    p = only(raw)
    assert (p.line, p.col) == (1, 1)
    assert "file is empty" in p.message and "sandboxes: {}" in p.message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(tmp_path / "sandboxes.yaml", display_name="sandboxes.yaml")
    assert [str(p) for p in info.value.problems] == ["sandboxes.yaml:1:1: file not found"]


def test_unreadable_path_is_an_error_not_a_crash(tmp_path: Path) -> None:
    folder = tmp_path / "sandboxes.yaml"
    folder.mkdir()  # reading a directory fails even as root, unlike chmod 000
    with pytest.raises(SpecError) as info:
        load_spec(folder, display_name="sandboxes.yaml")
    (p,) = info.value.problems
    assert p.message.startswith("cannot read the file: ")
    assert "directory" in p.message.lower()


def test_default_display_name_is_the_path_given(tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_bytes(b"version: 1\nsandboxes:\n  a: {task: audti}\n")
    with pytest.raises(SpecError) as info:
        load_spec(path, today=TODAY)
    assert str(info.value.problems[0]).startswith(f"{path}:3:")


def test_every_tab_is_reported_at_once_with_secrets_too() -> None:
    raw = b"version: 1\nsandboxes:\n\ta:\n\t\ttask: audit\n# AKIAIOSFODNN7EXAMPLE\n"
    got = [(p.line, p.col, p.message.split(";")[0]) for p in problems_of(raw)]
    assert got == [
        (3, 1, "tab character"),
        (4, 1, "tab character"),
        (5, 3, "this looks like an AWS access key id"),
    ]


def test_a_broken_file_is_never_an_empty_fleet() -> None:
    for raw in (b"version: 1\nsandboxes:\n", b"version: 1\n", b"sandboxes: {}\n", b"[]\n"):
        with pytest.raises(SpecError):
            load_spec_text(raw, today=TODAY)


def test_duplicate_keys_are_caught_where_pyyaml_keeps_the_last() -> None:
    import yaml

    raw = (BAD / "duplicate-sandbox-name.yaml").read_text()
    assert yaml.safe_load(raw)["sandboxes"]["fix-ui"] == {"task": "visual-debug"}  # the trap
    p = only(raw.encode())
    assert "duplicate key 'fix-ui'" in p.message


# --- the report ------------------------------------------------------------------------------


def test_report_caps_at_fifty_with_the_count_of_the_rest() -> None:
    entries = "".join(f"  s{i:02d}:\n    task: audti\n" for i in range(60))
    with pytest.raises(SpecError) as info:
        load_spec_text(f"version: 1\nsandboxes:\n{entries}", today=TODAY)
    err = info.value
    assert len(err.problems) == 60  # all are kept; only the text is capped
    lines = err.report().splitlines()
    assert len(lines) == MAX_REPORTED + 1 == 51
    assert lines[0].startswith("sandboxes.yaml:4:11: sandboxes.s00.task: 'audti'")
    assert lines[49].startswith("sandboxes.yaml:102:11: sandboxes.s49.task:")
    assert lines[-1] == "... and 10 more problems (fix the ones above first)"
    assert str(err) == err.report()


def test_report_is_not_capped_at_exactly_fifty() -> None:
    err = SpecError(Problem(i, 1, "x", "m") for i in range(1, 51))
    assert len(err.report().splitlines()) == 50 and "more problems" not in err.report()


def test_problems_are_sorted_by_position_and_deduplicated() -> None:
    a, b = Problem(9, 2, "p", "late"), Problem(2, 5, "q", "early")
    assert SpecError([a, b, a]).problems == [b, a]


def test_github_annotation_escapes_percent_and_newlines() -> None:
    p = Problem(3, 7, "sandboxes.a.env.X", "100% wrong\r\nsecond line", "dir/sandboxes.yaml")
    assert p.github_annotation() == (
        "::error file=dir/sandboxes.yaml,line=3,col=7::"
        "sandboxes.a.env.X: 100%25 wrong%0D%0Asecond line"
    )
    assert Problem(1, 1, "", "file not found").github_annotation() == (
        "::error file=sandboxes.yaml,line=1,col=1::file not found"
    )


# --- once open bugs, kept as regression tests --------------------------------------------------


def test_syntax_error_says_where_the_unclosed_construct_began() -> None:
    p = only((BAD / "yaml-syntax-unclosed-bracket.yaml").read_bytes())
    assert (p.line, p.col) == (7, 13)
    assert "while parsing a flow sequence" in p.message and "line 6" in p.message


def test_decimal_sizes_are_exact() -> None:
    spec = load_spec_text(
        "version: 1\nsandboxes:\n  a: {task: audit, resources: {memory: 4.1G}}\n", today=TODAY
    )
    assert spec.sandboxes[0].memory_bytes == 4_100_000_000


@pytest.mark.parametrize(("written", "meant"), [("3.10", "3.10"), ("0755", "0755")])
def test_env_values_keep_the_text_that_was_written(written: str, meant: str) -> None:
    text = f"version: 1\nsandboxes:\n  a:\n    task: test\n    env:\n      V: {written}\n"
    try:
        spec = load_spec_text(text, today=TODAY)
    except SpecError as exc:  # refusing with a hint to quote it is an acceptable fix too
        assert "quote" in exc.report()
    else:
        assert spec.sandboxes[0].env == (("V", meant),)


def test_branch_names_containing_sk_dash_are_not_secrets() -> None:
    text = (
        "version: 1\nsandboxes:\n  onboarding:\n    task: frontend-dev\n"
        "    branch: feature/sk-onboarding-wizard-v2\n"
    )
    assert load_spec_text(text, today=TODAY).sandboxes[0].branch.endswith("wizard-v2")


def test_a_secret_replaces_a_defaults_env_key_of_the_same_name() -> None:
    """Found by the round-trip property: both used to survive, and dump_yaml's output was
    then refused. The entry's secret now wins over the shared plain value."""
    text = (
        "version: 1\ndefaults:\n  env: {GITHUB_TOKEN: unset, LOG_LEVEL: info}\n"
        "sandboxes:\n  a:\n    task: audit\n    secrets: [GITHUB_TOKEN]\n  b:\n    task: audit\n"
    )
    fleet = load_spec_text(text, today=TODAY).by_name()
    assert fleet["a"].secrets == ("GITHUB_TOKEN",)
    assert fleet["a"].env == (("LOG_LEVEL", "info"),)
    assert fleet["b"].env == (("GITHUB_TOKEN", "unset"), ("LOG_LEVEL", "info"))


def test_deep_nesting_is_a_spec_error_not_a_crash() -> None:
    raw = "version: 1\nsandboxes:\n  a: {task: audit, env: {X: " + "[" * 5000 + "]" * 5000 + "}}\n"
    try:
        problems = problems_of(raw.encode())
    except RecursionError:
        pytest.fail("RecursionError escaped the loader")
    assert len(problems) == 1 and problems[0].line == 3
    assert "nest" in problems[0].message
