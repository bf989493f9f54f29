"""What went wrong in a spec file, and where: the one error type every spec check raises."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .credentials import redact

MAX_REPORTED = 50  # a file with hundreds of mistakes is better fixed from the top


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake: `file:line:col: path: message`. Line and column are 1-based."""

    line: int
    col: int
    path: str  # dotted path into the document, e.g. "sandboxes.fix-ui.resources.memory"
    message: str
    file: str = "sandboxes.yaml"

    def __post_init__(self) -> None:
        # Every message and path passes here, so no check that quotes a value can show a
        # credential: a token, a password in a URL, a long random string (credentials.py).
        object.__setattr__(self, "message", redact(self.message))
        object.__setattr__(self, "path", redact(self.path))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"

    def github_annotation(self) -> str:
        """The `::error` workflow command GitHub Actions turns into an inline annotation."""
        text = (f"{self.path}: {self.message}" if self.path else self.message).replace("%", "%25")
        text = text.replace("\r", "%0D").replace("\n", "%0A")
        return f"::error file={self.file},line={self.line},col={self.col}::{text}"


class SpecError(Exception):
    """A spec that cannot be used. Carries every problem found, sorted by position."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: Sequence[Problem] = sorted(set(problems))
        super().__init__(self.report())

    def report(self) -> str:
        shown = [str(p) for p in self.problems[:MAX_REPORTED]]
        hidden = len(self.problems) - len(shown)
        if hidden > 0:
            shown.append(f"... and {hidden} more problems (fix the ones above first)")
        return "\n".join(shown)
