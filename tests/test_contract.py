"""components/contract.py is the one place for the ports, names and paths the Python code shares
with the images: any other copy of one of its values in components/ fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components import contract

COMPONENTS = Path(contract.__file__).resolve().parent
VALUES = {
    name: value
    for name, value in vars(contract).items()
    if name.isupper() and isinstance(value, int | str)
}


def literal(value: int | str) -> re.Pattern[str]:
    """The value as code would write it: a bare number, or a quoted string."""
    if isinstance(value, int):
        return re.compile(rf"(?<![\w.]){value}(?![\w.])")
    return re.compile(rf"""["']{re.escape(value)}["']""")


@pytest.mark.parametrize("name", sorted(VALUES))
def test_the_value_is_written_only_in_the_contract(name: str) -> None:
    pattern = literal(VALUES[name])
    copies = [
        f"{path.relative_to(COMPONENTS.parent)}:{number}: {line.strip()}"
        for path in sorted(COMPONENTS.rglob("*.py"))
        if path.name != "contract.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line.split("#", 1)[0])
    ]
    assert copies == [], f"{name} = {VALUES[name]!r} is written again: {copies}"
