"""The fleet's own credentials (contract.FLEET_CREDENTIALS: its services' tokens and keys, the
cloud planes' and Tailscale's) can be named in no entry's `secrets:` or `env:`: a sandbox that
lists one would be handed the key to the fleet itself."""

from __future__ import annotations

import pytest

from components.contract import FLEET_CREDENTIALS
from components.spec import SpecError, load_spec_text

from .conftest import TODAY


@pytest.mark.parametrize("name", sorted(FLEET_CREDENTIALS))
@pytest.mark.parametrize(
    "where",
    ["    secrets: [{name}]\n", "    env: {{{name}: x}}\n"],
    ids=["secrets", "env"],
)
def test_a_fleet_credential_is_refused_in_secrets_and_env(name: str, where: str) -> None:
    text = "version: 1\nsandboxes:\n  a:\n    task: audit\n" + where.format(name=name)
    with pytest.raises(SpecError) as info:
        load_spec_text(text, today=TODAY)
    (problem,) = info.value.problems
    assert problem.line == 5
    assert f"'{name}' is the fleet's own credential ({FLEET_CREDENTIALS[name]})" in problem.message
    assert "never reaches a sandbox" in problem.message


def test_the_list_covers_the_services_planes_and_tailnet() -> None:
    assert {
        "SUPERVISOR_API_TOKEN", "MODEL_API_KEY", "LLAMA_API_KEY", "DAYTONA_API_KEY",
        "MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET", "TS_AUTHKEY", "TAILSCALE_API_KEY",
        "TAILSCALE_OAUTH_CLIENT_ID", "TAILSCALE_OAUTH_CLIENT_SECRET",
    } <= set(FLEET_CREDENTIALS)  # fmt: skip


def test_a_sandbox_keeps_its_own_keys_under_other_names() -> None:
    text = (
        "version: 1\nsandboxes:\n  a:\n    task: audit\n"
        "    secrets: [GITHUB_TOKEN, OPENAI_API_KEY, MY_DAYTONA_API_KEY]\n"
    )
    (sandbox,) = load_spec_text(text, today=TODAY).sandboxes
    assert sandbox.secrets == ("GITHUB_TOKEN", "MY_DAYTONA_API_KEY", "OPENAI_API_KEY")
