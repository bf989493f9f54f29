"""Branch names git takes as they are: the rules of `git check-ref-format --branch`, plus the
names git would take but read as something else (HEAD, refs/..., @).

A branch name goes to `git checkout -b` in the sandbox and to `git push`; a name git refuses
fails there, late, inside a running container, and a name git rewrites (`refs/heads/x` becomes
refs/heads/refs/heads/x, `@` means HEAD in a repository) puts the work somewhere else.
tests/spec/test_git_refs.py holds the rules against the real git binary.
"""

from __future__ import annotations

import re

MAX_LENGTH = 200  # git has no limit; hosts and file systems do (a component is a path segment)

# git's refname_disposition: control characters, DEL, space and ~^:?*[\ are refused anywhere.
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")
_CHARACTER_NAMES = {" ": "a space", "\t": "a tab", "\x7f": "DEL"}


def branch_problem(name: str) -> str | None:
    """Why `name` cannot be a branch name, or None when git takes it as it is."""
    if not name:
        return "it is empty"
    if len(name) > MAX_LENGTH:
        return f"it is {len(name)} characters; at most {MAX_LENGTH} allowed"
    return _meaning(name) or _character(name) or _shape(name)


def _meaning(name: str) -> str | None:
    """Names git would read as something other than a branch of that name."""
    if name == "HEAD":
        return "HEAD is git's name for the current commit"
    if name.startswith("refs/"):
        return "give the branch name alone; git would create refs/heads/" + name
    if name.startswith("-"):
        return "it starts with '-', which git reads as an option"
    if name == "@":
        return "'@' alone is git's shorthand for HEAD"
    return None


def _character(name: str) -> str | None:
    bad = _FORBIDDEN.search(name)
    if bad is None:
        return None
    char = bad.group()
    what = _CHARACTER_NAMES.get(char) or (
        f"the control character {char!r}" if char < " " else f"'{char}'"
    )
    return f"it contains {what} (git refuses spaces, control characters and ~^:?*[\\)"


def _shape(name: str) -> str | None:
    if ".." in name:
        return "it contains '..'"
    if "@{" in name:
        return "it contains '@{', git's reflog syntax"
    if name.startswith("/") or name.endswith("/") or "//" in name:
        return "it has an empty part between '/' (leading, trailing or doubled '/')"
    if name.endswith("."):
        return "it ends with '.'"
    for part in name.split("/"):
        if part.startswith("."):
            return f"its part '{part}' starts with '.'"
        if part.endswith(".lock"):
            return f"its part '{part}' ends with '.lock'"
    return None
