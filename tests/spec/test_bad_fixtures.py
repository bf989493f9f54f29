"""Every file in bad/ holds one realistic mistake (or, for many-mistakes.yaml, several) and
says on its first lines what must be reported:

    # expect: LINE:COL: DOTTED.PATH: substring of the message
    # xfail: reason            (only while a known bug in components/spec is open)

A path of `-` means the problem concerns the whole file. Expectations are exhaustive: the
loader must report exactly these problems, each at exactly that line and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.spec import Problem, SpecError, load_spec
from components.spec.credentials import SECRET_PATTERNS

from .conftest import BAD, TODAY

_EXPECT = re.compile(r"^# expect: (\d+):(\d+): (\S+): (.+)$")
_XFAIL = re.compile(r"^# xfail: (.+)$")


@dataclass(frozen=True)
class Expected:
    line: int
    col: int
    path: str
    text: str

    def matches(self, problem: Problem) -> bool:
        return (problem.line, problem.col, problem.path) == (
            self.line,
            self.col,
            self.path,
        ) and self.text in problem.message


def expectations(path: Path) -> tuple[list[Expected], str | None]:
    expected, xfail = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if m := _EXPECT.match(line):
            dotted = "" if m[3] == "-" else m[3]
            expected.append(Expected(int(m[1]), int(m[2]), dotted, m[4]))
        elif m := _XFAIL.match(line):
            xfail = m[1]
    return expected, xfail


def _params(*, strict: bool) -> list[object]:
    out: list[object] = []
    for path in sorted(BAD.glob("*.yaml")):
        _, xfail = expectations(path)
        marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail and strict else []
        out.append(pytest.param(path, id=path.stem, marks=marks))
    return out


def load_problems(path: Path) -> list[Problem]:
    with pytest.raises(SpecError) as info:
        load_spec(path, today=TODAY, display_name=path.name)
    return list(info.value.problems)


def test_there_are_enough_bad_fixtures_and_each_declares_its_problem() -> None:
    files = sorted(BAD.glob("*.yaml"))
    assert len(files) >= 45
    for path in files:
        assert expectations(path)[0], f"{path.name} has no `# expect:` line"


@pytest.mark.parametrize("path", _params(strict=True))
def test_bad_fixture_reports_exactly_the_expected_problems(path: Path) -> None:
    expected, _ = expectations(path)
    problems = load_problems(path)
    shown = "\n".join(str(p) for p in problems)
    unmatched = list(problems)
    for want in expected:
        hit = next((p for p in unmatched if want.matches(p)), None)
        assert hit is not None, f"expected {want} among:\n{shown}"
        unmatched.remove(hit)
    assert not unmatched, f"unexpected extra problems:\n{shown}"


@pytest.mark.parametrize("path", _params(strict=False))
def test_every_message_starts_with_file_line_col_and_names_the_path(path: Path) -> None:
    try:  # a fixture that wrongly loads is the other test's failure (see its xfail)
        load_spec(path, today=TODAY, display_name=path.name)
        problems: list[Problem] = []
    except SpecError as exc:
        problems = list(exc.problems)
        assert exc.report().splitlines()[0] == str(problems[0])
    for p in problems:
        head = f"{path.name}:{p.line}:{p.col}: "
        assert str(p).startswith(head)
        rest = str(p).removeprefix(head)
        assert rest == (f"{p.path}: {p.message}" if p.path else p.message)
        assert p.line >= 1 and p.col >= 1
        # A message may quote what was given, but never a credential it recognised.
        assert not any(rx.search(p.message) for _, rx in SECRET_PATTERNS), str(p)
