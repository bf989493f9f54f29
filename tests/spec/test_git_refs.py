"""Branch names against the real `git check-ref-format --branch` (git is a test dependency, as it
is in every sandbox image): the spec never takes a name git refuses or rewrites, and refuses a
name git takes only for the few it reads as something else (HEAD, refs/..., @)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from components.spec.fields import GitRef
from components.spec.git_refs import MAX_LENGTH

GIT = shutil.which("git")
BRANCH = TypeAdapter(GitRef)

# Pieces that hit git's rules more often than random text does.
PIECES = [
    "a", "Z", "0", "é", "-", "_", ".", "..", "/", "@", "{", "}", "@{", "~", "^", ":", "?", "*",
    "[", "\\", " ", "\t", "\x01", "\x1f", "\x7f", "lock", ".lock", "HEAD", "refs/", "heads/",
]  # fmt: skip
names = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=8).map("".join),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12),
)


def ours(name: str) -> bool:
    try:
        BRANCH.validate_python(name)
    except ValidationError:
        return False
    return True


@pytest.fixture(scope="module")
def git_takes(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], bool]:
    """`git check-ref-format --branch NAME` run outside any repository, where git checks the
    name as written (inside one it would expand @{-1} and @ first)."""
    assert GIT is not None, "git is needed to hold the branch rules against git itself"
    outside = tmp_path_factory.mktemp("no-repo")
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(outside.parent), "GIT_CONFIG_NOSYSTEM": "1"}
    env.pop("GIT_DIR", None)

    def run(name: str) -> bool:
        done = subprocess.run(
            [GIT, "check-ref-format", "--branch", name],
            cwd=outside,
            env=env,
            capture_output=True,
            check=False,
            timeout=10,
        )
        return done.returncode == 0 and done.stdout == f"{name}\n".encode()

    return run


def refused_on_purpose(name: str) -> bool:
    """Names git takes as branch names but that mean something else to people and git."""
    return name in ("HEAD", "@") or name.startswith("refs/") or len(name) > MAX_LENGTH


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=names)
@example(name="@")
@example(name="a./b")
@example(name="a@b")
@example(name="refs/heads/x")
def test_the_spec_takes_exactly_the_names_git_takes(
    name: str, git_takes: Callable[[str], bool]
) -> None:
    git = git_takes(name)
    if ours(name):
        assert git, f"{name!r} is taken by the spec but git refuses or rewrites it"
    else:
        assert not git or refused_on_purpose(name), f"{name!r} is refused but git takes it"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("HEAD", "HEAD is git's name for the current commit"),
        ("refs/heads/x", "give the branch name alone; git would create refs/heads/refs/heads/x"),
        ("-x", "it starts with '-', which git reads as an option"),
        ("x.lock", "its part 'x.lock' ends with '.lock'"),
        ("a.lock/b", "its part 'a.lock' ends with '.lock'"),
        ("a..b", "it contains '..'"),
        ("@", "'@' alone is git's shorthand for HEAD"),
        ("x/", "it has an empty part between '/'"),
        ("a//b", "it has an empty part between '/'"),
        ("/a", "it has an empty part between '/'"),
        ("a b", "it contains a space"),
        ("a\tb", "it contains a tab"),
        ("a\x01b", "it contains the control character '\\x01'"),
        ("a\x7fb", "it contains DEL"),
        ("a~1", "it contains '~'"),
        ("a^", "it contains '^'"),
        ("a:b", "it contains ':'"),
        ("a?", "it contains '?'"),
        ("a*", "it contains '*'"),
        ("a[b", "it contains '['"),
        ("a\\b", "it contains '\\'"),
        ("a@{1}", "it contains '@{', git's reflog syntax"),
        (".x", "its part '.x' starts with '.'"),
        ("a/.x", "its part '.x' starts with '.'"),
        ("a.", "it ends with '.'"),
        ("", "it is empty"),
        pytest.param("x" * 201, "it is 201 characters; at most 200 allowed", id="201-chars"),
    ],
)
def test_each_rule_names_its_reason(name: str, reason: str) -> None:
    with pytest.raises(ValidationError) as info:
        BRANCH.validate_python(name)
    message = str(info.value.errors()[0]["ctx"]["error"])
    assert "is not a valid git branch name: " in message
    assert reason in message


@pytest.mark.parametrize("name", ["main", "feature/x", "a./b", "a@b", "v1.2-rc_3", "é/ü", "x}"])
def test_names_git_takes_are_taken(name: str) -> None:
    assert BRANCH.validate_python(name) == name


def test_a_control_character_is_shown_escaped_never_raw() -> None:
    with pytest.raises(ValidationError) as info:
        BRANCH.validate_python("fix\nlogin")
    message = str(info.value.errors()[0]["ctx"]["error"])
    assert "\n" not in message and "'fix\\nlogin'" in message
