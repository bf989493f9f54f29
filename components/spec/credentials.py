"""What a credential looks like, for the two places that must know: the file scan refuses a
spec that holds one (reading.py), and no message ever shows one (Problem redacts its text, so
no check can forget to)."""

from __future__ import annotations

import itertools
import re

# Shapes of credentials people paste by mistake. A match in the file is always an error: the
# value would be committed to git and copied into container env, where any process can read it.
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
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
)
# What is shown of a redacted value: the kind of key is useful, the rest never.
_PREFIX = re.compile(
    r"^(?:gh[pousr]_|github_pat_|tskey-(?:[a-z]+-)?|sk-(?:proj-|svcacct-|admin-)?|xox[abposr]-"
    r"|AKIA|ASIA)"
)
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:'\"]*:([^\s/@'\"]+)@")
# Long runs that may be keys of no known shape: base64-like and hex.
_RUN = re.compile(r"[A-Za-z0-9+/=]{20,}")
_HEX = re.compile(r"(?<![A-Za-z0-9])[0-9a-fA-F]{32,}(?![A-Za-z0-9])")
_QUOTED = re.compile(r"""(?<!\w)(?:'[^'\n]*'|"[^"\n]*")(?!\w)""")


def redact(text: str) -> str:
    """`text` with each credential-looking span replaced by its known prefix and '…'; a quoted
    value that held one is marked `(redacted)` after its closing quote, a bare one in place."""
    spans = _spans(text)
    if not spans:
        return text
    quotes = [(m.start(), m.end()) for m in _QUOTED.finditer(text)]
    edits: list[tuple[int, int, str]] = []
    marked: set[int] = set()
    for start, end in spans:
        inside = next((q for q in quotes if q[0] < start and end < q[1]), None)
        shown = (m.group() if (m := _PREFIX.match(text[start:end])) else "") + "…"
        edits.append((start, end, shown if inside else f"{shown} (redacted)"))
        if inside and inside[1] not in marked:
            marked.add(inside[1])
            edits.append((inside[1], inside[1], " (redacted)"))
    out, last = [], 0
    for start, end, replacement in sorted(edits):
        out += [text[last:start], replacement]
        last = end
    return "".join(out) + text[last:]


def _spans(text: str) -> list[tuple[int, int]]:
    """Where credentials are in `text`, overlapping matches merged."""
    found = [m.span() for _, pattern in SECRET_PATTERNS for m in pattern.finditer(text)]
    found += [m.span(1) for m in _URL_PASSWORD.finditer(text)]
    found += [m.span() for m in _RUN.finditer(text) if _random_looking(m.group())]
    found += [m.span() for m in _HEX.finditer(text) if not m.group().isalpha()]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _random_looking(run: str) -> bool:
    """Upper, lower and digits, switching class often: random keys do about every other
    character, words and CamelCase names (`Login2FA/RefactorPart3`) far less."""
    if not (any(c.isupper() for c in run) and any(c.islower() for c in run)):
        return False
    if not any(c.isdigit() for c in run):
        return False
    classes = [c.isupper() + 2 * c.islower() + 4 * c.isdigit() for c in run]
    switches = sum(a != b for a, b in itertools.pairwise(classes))
    return switches >= 0.4 * len(run)
