"""components/contract.py is the one place for the ports, names and paths the Python code shares
with the images: any other copy of one of its values in components/ fails here, and so does a
port or path of it written in images/ (which get them as build arguments; the environment
variable names are the interface itself, so the images read those by name)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components import contract

COMPONENTS = Path(contract.__file__).resolve().parent
IMAGES = COMPONENTS.parent / "images"
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


def image_files() -> list[Path]:
    """What the image builds use: every file under images/ but the READMEs (docs, not code)."""
    return sorted(p for p in IMAGES.rglob("*") if p.is_file() and p.suffix != ".md")


IMAGE_VALUES = {
    name: value
    for name, value in VALUES.items()
    if isinstance(value, int) or value.startswith("/")  # the ports and the paths
}


def in_images(value: int | str) -> re.Pattern[str]:
    """A port as a number; a path at the start of a path (`/logs` in `/logs/supervisor`)."""
    if isinstance(value, int):
        return re.compile(rf"(?<![\w.]){value}(?![\w.])")
    return re.compile(rf"(?<![\w./-]){re.escape(value)}(?![\w.-])")


@pytest.mark.parametrize("name", sorted(IMAGE_VALUES))
def test_the_images_take_the_value_from_the_contract(name: str) -> None:
    pattern = in_images(IMAGE_VALUES[name])
    copies = [
        f"{path.relative_to(IMAGES.parent)}:{number}: {line.strip()}"
        for path in image_files()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line.split("#", 1)[0])
    ]
    assert copies == [], f"{name} = {IMAGE_VALUES[name]!r} is written in images/: {copies}"


@pytest.mark.parametrize("image", sorted(contract.IMAGE_BUILD_ARGS))
def test_each_image_declares_the_build_args_it_is_given(image: str) -> None:
    dockerfile = (IMAGES / image / "Dockerfile").read_text()
    declared = set(re.findall(r"^ARG (\w+)", dockerfile, re.M))
    assert set(contract.IMAGE_BUILD_ARGS[image]) <= declared


def test_the_credentials_the_planes_read_are_the_contract_s_fleet_credentials() -> None:
    """The cloud planes read their keys from the stack's secret config, the namespace of the
    secrets sandboxes.yaml names: the spec refuses exactly contract.FLEET_CREDENTIALS there."""
    from components.planes.daytona.component import API_KEY
    from components.planes.modal.component import TOKEN_KEYS

    assert {API_KEY, *TOKEN_KEYS} <= set(contract.FLEET_CREDENTIALS)
