"""A spec file's bytes -> Source: refused early when it cannot be YAML text (too large, UTF-16,
binary, not UTF-8, empty, tabs), and scanned for pasted credentials, comments included."""

from __future__ import annotations

import re
from pathlib import Path

from .credentials import SECRET_PATTERNS
from .problems import Problem, SpecError
from .source import Source, compose, dotted, to_python

MAX_BYTES = 1024 * 1024


def read_source(path: Path, display_name: str | None = None) -> Source:
    """Load `path`; raise SpecError (never a bare YAML or OS error) when it cannot be used."""
    name = display_name or str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise SpecError([Problem(1, 1, "", "file not found", name)]) from None
    except OSError as exc:
        raise SpecError(
            [Problem(1, 1, "", f"cannot read the file: {exc.strerror}", name)]
        ) from None
    return parse_source(raw, name)


NOT_A_SPEC = (
    "not a sandbox-fleet spec: the file must be a mapping with `version` and `sandboxes` "
    "(its content is not shown: it may be another, private file)"
)
# A `version:` or `sandboxes:` key, block or flow style: the mark of a spec, looked for when the
# file cannot be read as YAML at all (a spec with a typo, or some other file).
_SPEC_KEY = re.compile(r"""(?:^|[{,])\s*["']?(?:version|sandboxes)["']?\s*:""", re.M)


def parse_source(raw: bytes, name: str) -> Source:
    """Source of a spec file. A file that is not a spec (the spec path leads to a private key,
    /etc/passwd, a .env) gets one problem that shows nothing of it: no line, no key, not even
    the character YAML tripped over."""
    text = _text(raw, name)
    try:
        source = _parsed(text, name)
    except SpecError:
        if _SPEC_KEY.search(text):
            raise
        raise SpecError([Problem(1, 1, "", NOT_A_SPEC, name)]) from None
    if not (isinstance(source.data, dict) and {"version", "sandboxes"} & source.data.keys()):
        raise SpecError([Problem(1, 1, "", NOT_A_SPEC, name)])
    return source


def _text(raw: bytes, name: str) -> str:
    """The file as text, refused when it cannot be a YAML file at all."""

    def fail(line: int, col: int, message: str) -> SpecError:
        return SpecError([Problem(line, col, "", message, name)])

    if len(raw) > MAX_BYTES:
        raise fail(1, 1, f"file is larger than {MAX_BYTES // 1024} KiB; a fleet spec never is")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise fail(1, 1, "file is UTF-16 text; save it as UTF-8")
    if b"\0" in raw:
        line = raw[: raw.index(b"\0")].count(b"\n") + 1
        raise fail(line, 1, "file contains NUL bytes: it is binary, not YAML text")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise fail(line, 1, f"file is not UTF-8 text (byte 0x{raw[exc.start]:02x})") from None
    text = text.removeprefix("\ufeff")
    if not text.strip() or all(
        not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()
    ):
        raise fail(
            1, 1, "file is empty; an empty fleet is written `version: 1` and `sandboxes: {}`"
        )
    return text


def _parsed(text: str, name: str) -> Source:
    tabs = [
        Problem(number, line.index("\t") + 1, "", "tab character; indent with spaces", name)
        for number, line in enumerate(text.splitlines(), start=1)
        if "\t" in line
    ]
    if tabs:  # YAML's own error for a tab is cryptic, and comes one at a time
        raise SpecError(tabs + _secrets_in(text, Source(name, None)))
    source = Source(file=name, data=None)
    source.data = to_python(compose(text, name), (), source)
    source.problems.extend(_secrets_in(text, source))
    return source


def _secrets_in(text: str, source: Source) -> list[Problem]:
    """Secret-looking text anywhere, comments included: a comment is committed to git too."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for what, pattern in SECRET_PATTERNS:
            match = pattern.search(line)
            if match:
                col = match.start() + 1
                found.append(
                    Problem(
                        number,
                        col,
                        dotted(source.path_at(number, col)),
                        f"this looks like {what}; secret values never belong in this file. Store "
                        "it with `pulumi config set --secret NAME` and list NAME under `secrets:`",
                        source.file,
                    )
                )
    return found
