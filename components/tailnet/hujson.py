"""HuJSON (JSON with comments and trailing commas), as Tailscale's policy file uses it.

No dependency: comments and trailing commas are blanked out in place (newlines kept), so the
standard json module parses the result and its line/column numbers point into the original text.
Anything else JSON does not allow (unquoted keys, single quotes, leading commas) stays an error,
as it is for Tailscale.
"""

from __future__ import annotations

import json
from typing import Any


class HuJSONError(ValueError):
    """A policy file that is not valid HuJSON; the message starts with `source:line:column`."""


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _blank(chunk: str) -> str:
    # Keep newlines so json's line/column numbers still point into the original text.
    return "".join("\n" if ch == "\n" else " " for ch in chunk)


def _standardize(text: str, source: str) -> str:
    """HuJSON to JSON of the same length: comments and trailing commas become spaces."""
    out: list[str] = []
    i, n = 0, len(text)
    pending_comma = -1  # index in `out` of a comma that may turn out to be trailing
    last = ""  # last significant character: a comma right after "[", "{" or "," is an error
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                line, col = _position(text, i)
                raise HuJSONError(f"{source}:{line}:{col}: unterminated string")
            out.append(text[i : j + 1])
            pending_comma, last = -1, '"'
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(_blank(text[i:j]))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                line, col = _position(text, i)
                raise HuJSONError(f"{source}:{line}:{col}: unterminated /* comment")
            out.append(_blank(text[i : j + 2]))
            i = j + 2
        else:
            if ch in "]}" and pending_comma >= 0:
                out[pending_comma] = " "
            if ch == "," and last not in ("[", "{", ","):
                pending_comma = len(out)
            elif not ch.isspace():
                pending_comma = -1
            if not ch.isspace():
                last = ch
            out.append(ch)
            i += 1
    return "".join(out)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def parse_hujson(text: str, source: str = "<policy>") -> Any:
    """Parse HuJSON (JSON with // and /* */ comments and trailing commas).

    Errors raise HuJSONError whose message starts with `source:line:column:`.
    """
    standard = _standardize(text, source)
    try:
        return json.loads(standard, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise HuJSONError(f"{source}:{exc.lineno}:{exc.colno}: {exc.msg}") from None
    except ValueError as exc:  # duplicate key: json gives no position, name the key instead
        raise HuJSONError(f"{source}: {exc}") from None
