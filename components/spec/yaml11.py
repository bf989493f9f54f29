"""Plain scalars whose meaning depends on the YAML version that reads them.

The loader is PyYAML, a YAML 1.1 reader: `on` is true, `030000` is 12288, `22:22` is 1342. The
editor's schema check (yaml-language-server), yq and most other languages read YAML 1.2, where
those are the text `on`, the number 30000 and the text `22:22`. A file that drives deletions
must mean one thing to every reader, so such a scalar is refused with a spelling that is
unambiguous. Quoted and block scalars are text in every version and are never refused; dates
(a timestamp in 1.1, text in 1.2) are read as dates either way by the models.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

# YAML 1.1 booleans that PyYAML reads as text, though the 1.1 spec (and Go's yaml.v2) do not.
_SHORT_BOOLS = {"y": True, "Y": True, "n": False, "N": False}
# Plain scalars PyYAML turns into special keys no field can hold.
_SPECIAL = {"tag:yaml.org,2002:value": "a value key", "tag:yaml.org,2002:merge": "a merge key"}

# The YAML 1.2 core schema (yaml.org/spec/1.2.2, 10.3.2).
_CORE_NULL = re.compile(r"^(?:null|Null|NULL|~|)$")
_CORE_BOOL = {f: f[0] in "tT" for f in ("true", "True", "TRUE", "false", "False", "FALSE")}
_CORE_INTS = (
    (re.compile(r"^[-+]?[0-9]+$"), 10, 0),
    (re.compile(r"^0o[0-7]+$"), 8, 2),
    (re.compile(r"^0x[0-9a-fA-F]+$"), 16, 2),
)
_CORE_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_CORE_INF = re.compile(r"^([-+]?)\.(?:inf|Inf|INF)$")
_CORE_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")

_OCTAL_11 = re.compile(r"^[-+]?0[0-7_]+$")
_BINARY_11 = re.compile(r"^[-+]?0b[01_]+$")

_RESOLVER = yaml.resolver.Resolver()
_LOADER = yaml.SafeLoader("")


@dataclass(frozen=True)
class Reading:
    """A plain scalar that YAML 1.1 (`old`) and YAML 1.2 (`new`) read differently."""

    text: str
    old: Any
    new: Any
    special: str = ""  # what PyYAML makes of `=` and `<<`: keys of its own, not values

    def for_value(self) -> str:
        """The problem, with the spelling to write instead."""
        text, old, new = self.text, self.old, self.new
        quote = f"(or quote it, '{text}', for text)"
        if self.special:
            return f"`{text}` is {self.special} in YAML 1.1; quote it ('{text}') for text"
        if isinstance(old, bool):
            return f"`{text}` is YAML 1.1 for {str(old).lower()}; write true or false {quote}"
        if isinstance(old, str):
            return (
                f"`{text}` is text in YAML 1.1 but the number {new} in YAML 1.2; "
                f"write {new} for the number {quote}"
            )
        if ":" in text:
            return (
                f"`{text}` is a base-60 number in YAML 1.1 ({old}); "
                f"quote it ('{text}') for text, or write {old}"
            )
        number = new if isinstance(new, int | float) else old
        return f"`{text}` is {self._kind()} in YAML 1.1 ({old}); write {number} {quote}"

    def for_key(self) -> str:
        """The problem for a mapping key: a key is a name, so quoting is the one fix."""
        text, old = self.text, self.old
        if self.special:
            reading = f"{self.special} in YAML 1.1"
        elif isinstance(old, bool):
            reading = f"YAML 1.1 for {str(old).lower()}"
        elif isinstance(old, str):
            reading = f"the number {self.new} in YAML 1.2"
        else:
            reading = f"{self._kind()} in YAML 1.1 ({old})"
        return f"`{text}` is {reading}; quote it ('{text}')"

    def _kind(self) -> str:
        if ":" in self.text:
            return "a base-60 number"
        if _OCTAL_11.match(self.text):
            return "an octal number"
        if _BINARY_11.match(self.text):
            return "a binary number"
        if "_" in self.text:
            return "a number with digit grouping"
        return "a number"


def misread(node: yaml.ScalarNode) -> Reading | None:
    """How `node` reads differently in YAML 1.1 and 1.2, or None when it does not."""
    if node.style is not None:
        return None
    text = node.value
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    if tag in _SPECIAL:
        return Reading(text, None, text, special=_SPECIAL[tag])
    if tag.endswith(":timestamp"):
        return None
    if text in _SHORT_BOOLS:
        old = _SHORT_BOOLS[text]
    else:
        try:
            old = _LOADER.yaml_constructors[tag](_LOADER, yaml.ScalarNode(tag, text))
        except ValueError:  # `-0x_` resolves as an int that YAML 1.1 cannot build: not a
            return None  # misreading; the loader reports it as a value it cannot read
    new = _core(text)
    same = type(old) is type(new) and (old == new or _both_nan(old, new))
    return None if same else Reading(text, old, new)


def _both_nan(a: Any, b: Any) -> bool:
    return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)


def _core(text: str) -> Any:
    """What a YAML 1.2 core-schema reader makes of a plain scalar."""
    if _CORE_NULL.match(text):
        return None
    if text in _CORE_BOOL:
        return _CORE_BOOL[text]
    for pattern, base, skip in _CORE_INTS:
        if pattern.match(text):
            return int(text[skip:], base)
    if _CORE_FLOAT.match(text):
        return float(text)
    if inf := _CORE_INF.match(text):
        return -math.inf if inf[1] == "-" else math.inf
    return math.nan if _CORE_NAN.match(text) else text
