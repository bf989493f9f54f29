"""A spec file's bytes -> Source: refused early when it cannot be YAML text (too large, UTF-16,
binary, not UTF-8, empty, tabs), and scanned for pasted credentials, comments included."""

from __future__ import annotations

import re
from pathlib import Path

from .problems import Problem, SpecError
from .source import Source, compose, dotted, to_python

MAX_BYTES = 1024 * 1024


# Shapes of credentials people paste by mistake. A match is always an error: the value would be
# committed to git and copied into container env, where any process can read it.
SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "a GitHub token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})"),
    ),
    ("a Tailscale key", re.compile(r"\btskey-[A-Za-z0-9-]{10,}")),
    # Real keys mix upper case and digits; `feature/sk-onboarding-wizard-v2` does not.
    (
        "an OpenAI key",
        re.compile(
            r"\bsk-(?:proj-|svcacct-|admin-)?(?=[\w-]*[A-Z])(?=[\w-]*[0-9])[A-Za-z0-9_-]{20,}"
        ),
    ),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
)


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


def parse_source(raw: bytes, name: str) -> Source:
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
