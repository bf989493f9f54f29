"""Plain scalars that YAML 1.1 (PyYAML, the loader) and YAML 1.2 (editors, yq, other languages)
read differently are refused at their line, with the field, the text as written and the fix;
quoted text, dates, decimals and plain numbers read as before."""

from __future__ import annotations

import datetime as dt

import pytest

from components.spec import Problem, SpecError, load_spec_text

from .conftest import TODAY


def entry(field: str, written: str) -> str:
    return f"version: 1\nsandboxes:\n  fix-ui:\n    task: frontend-dev\n    {field}: {written}\n"


def problems(text: str) -> list[Problem]:
    with pytest.raises(SpecError) as info:
        load_spec_text(text, today=TODAY)
    return list(info.value.problems)


@pytest.mark.parametrize(
    ("field", "written", "message"),
    [
        ("ssh_port", "030000", "`030000` is an octal number in YAML 1.1 (12288); write 30000"),
        ("ssh_port", "0b111010100110000", "is a binary number in YAML 1.1 (30000); write 30000"),
        ("ssh_port", "30_000", "is a number with digit grouping in YAML 1.1 (30000)"),
        ("ssh_port", "08", "`08` is text in YAML 1.1 but the number 8 in YAML 1.2; write 8"),
        ("ssh_port", "0o70", "`0o70` is text in YAML 1.1 but the number 56 in YAML 1.2"),
        ("resources", "{cpus: 1e3}", "`1e3` is text in YAML 1.1 but the number 1000.0"),
        ("resources", "{cpus: 1_0.5}", "digit grouping in YAML 1.1 (10.5); write 10.5"),
        ("ports", "[8:20]", "`8:20` is a base-60 number in YAML 1.1 (500); quote it ('8:20')"),
        ("tailnet", "on", "`on` is YAML 1.1 for true; write true or false (or quote it, 'on',"),
        ("tailnet", "Off", "`Off` is YAML 1.1 for false; write true or false"),
        ("tailnet", "yes", "`yes` is YAML 1.1 for true"),
        ("tailnet", "NO", "`NO` is YAML 1.1 for false"),
        ("tailnet", "Y", "`Y` is YAML 1.1 for true"),
        ("tailnet", "n", "`n` is YAML 1.1 for false"),
        ("branch", "=", "`=` is a value key in YAML 1.1; quote it ('=') for text"),
        ("secrets", "[y]", "`y` is YAML 1.1 for true"),
    ],
)
def test_a_yaml_1_1_spelling_is_refused_at_its_line_with_the_fix(
    field: str, written: str, message: str
) -> None:
    (problem,) = problems(entry(field, written))
    assert problem.line == 5
    assert problem.path.startswith(f"sandboxes.fix-ui.{field}")
    assert message in problem.message
    assert "Traceback" not in str(problem)


def test_a_key_spelled_the_yaml_1_1_way_is_refused_and_not_renamed() -> None:
    (problem,) = problems("version: 1\nsandboxes:\n  0755: {task: audit}\n")
    assert (problem.line, problem.col, problem.path) == (3, 3, "sandboxes")
    assert problem.message == (
        "keys must be plain text: `0755` is an octal number in YAML 1.1 (493); quote it ('0755')"
    )


@pytest.mark.parametrize(
    ("field", "written", "attribute", "value"),
    [
        ("ssh_port", "30000", "host_ports", None),
        ("ssh_port", "+30000", "host_ports", None),
        ("resources", "{cpus: 0.5}", "cpus", 0.5),
        ("resources", "{cpus: 2}", "cpus", 2.0),
        ("resources", "{cpus: 1.5e+1}", "cpus", 15.0),
        ("expires", "2026-12-31", "expires", dt.date(2026, 12, 31)),
        ("tailnet", "true", "tailnet", True),
        ("tailnet", "False", "tailnet", False),
        ("branch", "'030000'", "branch", "030000"),
        ("branch", '"on"', "branch", "on"),
        ("branch", "'y'", "branch", "y"),
        ("branch", "'1_000'", "branch", "1_000"),
        ("branch", "release-1.20", "branch", "release-1.20"),
    ],
)
def test_unambiguous_values_read_as_before(
    field: str, written: str, attribute: str, value: object
) -> None:
    (sandbox,) = load_spec_text(entry(field, written), today=TODAY).sandboxes
    if attribute == "host_ports":
        assert sandbox.host_ports.ssh == 30000
    else:
        assert getattr(sandbox, attribute) == value


@pytest.mark.parametrize(
    ("written", "text"),
    [("on", "on"), ("0755", "0755"), ("1:20", "1:20"), ("y", "y"), ("2026-01-01", "2026-01-01")],
)
def test_env_values_keep_every_spelling_as_written(written: str, text: str) -> None:
    """Env values are text in the container, whatever YAML makes of them: no ambiguity."""
    (sandbox,) = load_spec_text(entry("env", f"{{V: {written}}}"), today=TODAY).sandboxes
    assert sandbox.env == (("V", text),)
