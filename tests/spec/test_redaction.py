"""No message ever shows a value that looks like a credential, whichever check quotes it: known
token shapes (the file scan's own patterns), passwords in URLs, long random-looking strings.
They are shown as their known prefix and `…`, marked `(redacted)`; other values stay visible."""

from __future__ import annotations

import pytest

from components.spec import Problem, SpecError, load_spec_text
from components.spec.credentials import redact

from .conftest import TODAY

# Fake credentials of the real shapes (random, never issued).
TOKENS = {
    "github": ("ghp_", "HojLK92m1ALOEt8inmwdnJUTvFsObzeAclMU"),
    "github-pat": ("github_pat_", "11ABCDEFG0HojLK92m1ALOEt8inmwdnJUTvFsObzeAclMU_x2Qz"),
    "openai": ("sk-proj-", "DXN1wiowrdEkZ3H1SqzaVyMtuqHkWp5DU1y6BcH3"),
    "slack": ("xoxb-", "123456789012-1234567890123-HojLK92m1ALOEt8inmwd"),
    "aws": ("AKIA", "Q3EGRJZ7TXK4VN5L"),
    "tailscale": ("tskey-auth-", "kQ3EGRJZ7CNTRL-HojLK92m1ALOEt8inmwdnJUTv"),
    "random-base62": ("", "DXN1wiowrdEkZ3H1SqzaVyMtuqHkWp5DU1y6BcH3"),
    "random-hex": ("", "571b21397831f92bda466759eb8c94b9afacb9f6"),
}


def problems(text: str) -> list[Problem]:
    with pytest.raises(SpecError) as info:
        load_spec_text(text, today=TODAY)
    return list(info.value.problems)


def shown(text: str) -> str:
    """Every message the file gets (none when it loads: a valid env name may look random)."""
    try:
        load_spec_text(text, today=TODAY)
    except SpecError as exc:
        return exc.report()
    return ""


def entry(line: str) -> str:
    return f"version: 1\nsandboxes:\n  fix-ui:\n    task: frontend-dev\n    {line}\n"


@pytest.mark.parametrize(("prefix", "body"), TOKENS.values(), ids=TOKENS.keys())
@pytest.mark.parametrize(
    "line",
    [
        'branch: "fix {token}"',  # a branch with a space: the message quotes it
        "runtime: {token}",  # not one of the runtimes: quoted
        "secrets: [{token}]",  # a value where a name belongs
        "env: {{{token}: x}}",  # a key: its path is shown
        "ports: ['{token}']",  # not a number: quoted
    ],
    ids=["branch", "runtime", "secrets", "env-key", "ports"],
)
def test_no_message_shows_a_credential(prefix: str, body: str, line: str) -> None:
    report = shown(entry(line.format(token=prefix + body)))
    assert body not in report and body[:8] not in report, report


@pytest.mark.parametrize(("prefix", "body"), TOKENS.values(), ids=TOKENS.keys())
def test_a_redacted_value_keeps_only_its_known_prefix_and_says_so(prefix: str, body: str) -> None:
    assert redact(f"'{prefix}{body}' is not one of: a, b") == (
        f"'{prefix}…' (redacted) is not one of: a, b"
    )
    assert redact(f"sandboxes.a.env.{prefix}{body}") == f"sandboxes.a.env.{prefix}… (redacted)"


def test_a_quoted_value_the_scan_does_not_know_is_redacted_in_the_loader_s_message() -> None:
    (problem,) = problems(entry(f"mode: {TOKENS['random-base62'][1]}"))
    assert problem.message == "'…' (redacted) is not one of: headless, visual"


def test_a_password_in_a_url_is_redacted_and_the_rest_shown() -> None:
    report = shown("version: 1\ndefaults:\n  repo: htps://alice:Tr0ub4dor3@github.com/acme/app\n")
    assert "Tr0ub4dor3" not in report
    assert "'htps://alice:…@github.com/acme/app' (redacted) is not a git URL" in report


def test_a_value_in_secrets_that_is_not_a_name_is_never_shown() -> None:
    (problem,) = problems(entry('secrets: ["hunter2!"]'))
    assert "hunter2" not in problem.message
    assert "is not a secret name" in problem.message and "not shown" in problem.message


@pytest.mark.parametrize(
    "text",
    [
        "'visual-debgu' is not one of: audit",
        "'fix login' is not a valid git branch name",
        "'feature/Login2FA/RefactorPart3' is not a valid git branch name",
        "'sandboxes.fix-login-ui.resources.memory' at line 3",
        "`ssh_port: 30003` (sandbox-fleet:supervisorPort)",
        "'https://github.com/acme/app.git' and ssh://git@host:2222/x",
        "[A-Za-z_][A-Za-z0-9_]* (UPPER_SNAKE_CASE, e.g. GITHUB_TOKEN)",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert redact(text) == text
