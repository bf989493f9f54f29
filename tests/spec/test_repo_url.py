"""A repo that git or ssh would read as an option is refused, in whatever part of the URL the
dash hides (git itself learned this from CVE-2017-1000117); ordinary URLs are taken."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from components.spec.fields import RepoUrl

REPO = TypeAdapter(RepoUrl)


@pytest.mark.parametrize(
    ("value", "part"),
    [
        ("-x", ""),
        ("--upload-pack=touch", ""),
        ("-oProxyCommand=x@github.com:acme/app.git", ""),
        ("git@-oProxyCommand=x:acme/app.git", "its host '-oProxyCommand=x'"),
        ("git@github.com:-acme/app.git", "its path '-acme/app.git'"),
        ("ssh://-oProxyCommand=x/app.git", "its host '-oProxyCommand=x'"),
        ("ssh://-l@github.com/app.git", "its user '-l'"),
        ("git://-host/app.git", "its host '-host'"),
        ("file://-x/srv/git/app.git", "its host '-x'"),
    ],
)
def test_a_repo_that_reads_as_an_option_is_refused(value: str, part: str) -> None:
    with pytest.raises(ValidationError) as info:
        REPO.validate_python(value)
    message = str(info.value.errors()[0]["ctx"]["error"])
    assert "starts with '-'" in message and "as an option, not a repository" in message
    assert part in message


@pytest.mark.parametrize(
    "value",
    [
        "https://github.com/acme/app.git",
        "https://github.com/acme/-odd-but-fine.git",
        "git@github.com:acme/app.git",
        "ssh://git@git.example.com:2222/team/tool.git",
        "git://git.example.com/app-x.git",
        "file:///srv/git/mono.git",
        "my-user@git-host.example:team/a-b.git",
    ],
)
def test_ordinary_repos_are_taken(value: str) -> None:
    assert REPO.validate_python(value) == value
