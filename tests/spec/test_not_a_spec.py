"""A spec path that leads to another file (a symlink to a private key or /etc/passwd, a .env, a
JSON config, an INI file, a terminal log) is refused as not a spec, and nothing of that file is
ever shown: no line, no key name, no character YAML tripped over."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components.spec import SpecError, load_spec, load_spec_text
from components.spec.reading import NOT_A_SPEC

from .conftest import TODAY

OTHER_FILES = {
    "private-key": (
        "-----BEGIN OPENSSH PRIVATE KEY-----\n"
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
        "QyNTUxOQAAACDz7rj3mJwq9o9c8Y0M2cQ8d0yXKkq3Yb7kq2lZp0a5bQAAAJg5Jq3lOSat\n"
        "-----END OPENSSH PRIVATE KEY-----\n"
    ),
    "passwd": (
        "root:x:0:0:root:/root:/bin/bash\n"
        "alice:x:1000:1000:Alice Liddell,,,:/home/alice:/bin/bash\n"
    ),
    "dotenv": "DB_PASSWORD=correcthorse\nINTERNAL_URL=https://billing.corp.example\n",
    "json-config": '{"db_password": "correcthorse", "internal_host": "billing.corp"}\n',
    "yaml-config": "database:\n  password: correcthorse\n  host: billing.corp\n",
    "yaml-list": "- user: alice\n  password: correcthorse\n",
    "ini": "[credentials]\nbilling_password = correcthorse\n",
    "makefile": "deploy:\n\tcurl -u admin:correcthorse https://billing.corp\n",
    "escape-junk": "\x1b[31mcorrecthorse billing.corp\x1b[0m\n",
    "percent-directive": "%correcthorse billing.corp\n",
    "unknown-escape": 'login: "correct\\qhorse billing.corp"\n',
}


def words(text: str) -> set[str]:
    """What could identify a file: every run of 4+ letters or digits."""
    return set(re.findall(r"[A-Za-z0-9]{4,}", text))


@pytest.mark.parametrize("kind", sorted(OTHER_FILES))
def test_another_file_behind_the_spec_path_is_refused_and_never_quoted(
    kind: str, tmp_path: Path
) -> None:
    target = tmp_path / "private" / kind
    target.parent.mkdir()
    target.write_text(OTHER_FILES[kind])
    link = tmp_path / "sandboxes.yaml"
    link.symlink_to(target)
    with pytest.raises(SpecError) as info:
        load_spec(link, today=TODAY, display_name="sandboxes.yaml")
    (problem,) = info.value.problems
    assert (problem.line, problem.col, problem.path) == (1, 1, "")
    assert problem.message.startswith("not a sandbox-fleet spec")
    assert str(info.value) == f"sandboxes.yaml:1:1: {NOT_A_SPEC}"
    assert words(OTHER_FILES[kind]) & words(str(info.value)) <= words(NOT_A_SPEC)


def test_a_spec_with_mistakes_is_still_reported_in_full() -> None:
    """The other side: a file that has `version:` or `sandboxes:` is a spec, mistakes and all."""
    with pytest.raises(SpecError) as info:
        load_spec_text("version: 1\nsandboxes:\n  a: {task: audti}\n\t\n", today=TODAY)
    assert "tab character" in str(info.value)
    with pytest.raises(SpecError) as info:
        load_spec_text("version: 1\nsandboxes: [\n", today=TODAY)
    assert "YAML syntax error" in str(info.value)
