"""A repository's mirror (issue #14), under mocks: one kept volume and one keeper per repository
URL, mounted read-only in each of its Docker sandboxes, which start after its first clone; a
private repository's keeper fetches with the entry's token (a secret)."""

from __future__ import annotations

from typing import Any

from components.contract import MIRROR_PATH
from components.planes.docker.memory import repo_slug

from .conftest import RunSpec

APP = "https://github.com/acme/app.git"
SPEC = f"""version: 1
defaults:
  repo: {APP}
sandboxes:
  web: {{task: frontend-dev}}
  api: {{task: refactor, secrets: [GITHUB_TOKEN], repo_token: GITHUB_TOKEN}}
  docs: {{task: audit, repo: "https://github.com/acme/docs.git"}}
"""
SECRET = {"GITHUB_TOKEN": "mirror-test-token"}


def mirror_mounts(run: Any, name: str) -> list[dict[str, Any]]:
    return [m for m in run.by_name(f"fleet-{name}-container").inputs["mounts"]
            if m["target"] == MIRROR_PATH]  # fmt: skip


def test_one_mirror_per_repository_mounted_read_only_in_its_sandboxes(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, secret_keys=tuple(SECRET), **SECRET)
    assert run.error is None, run.error
    app, docs = repo_slug(APP), repo_slug("https://github.com/acme/docs.git")
    keepers = [c.name for c in run.of_type("docker:index/container:Container")
               if c.name.endswith("-keeper")]  # fmt: skip
    assert sorted(keepers) == sorted([f"fleet-mirror-{app}-keeper", f"fleet-mirror-{docs}-keeper"])
    volume = run.by_name(f"fleet-mirror-{app}")
    assert volume.inputs["name"] == f"mirror-{app}" and volume.retain_on_delete
    mount = {"type": "volume", "source": f"mirror-{app}", "target": MIRROR_PATH, "readOnly": True}
    assert mirror_mounts(run, "web") == mirror_mounts(run, "api") == [mount]
    keeper = run.by_name(f"fleet-mirror-{app}-keeper")
    assert keeper.inputs["name"] == f"mirror.{app}"
    web = run.by_name("fleet-web-container")
    ready = run.by_name("fleet-ready")  # `up` waits for the first clone too
    [first_clone] = [w for w in ready.inputs["watched"] if w["subject"] == f"the mirror of {APP}"]
    assert keeper.urn in ready.dependencies and first_clone["container"] == f"mirror.{app}"
    assert first_clone["probe"] == ["/usr/local/bin/sandbox-mirror", "--health", "0"]
    assert "wait" not in keeper.inputs, "the Readiness waits, saying why when it fails"
    # The sandbox starts after the keeper, not the Readiness (a dynamic provider's start on
    # every new sandbox's path): it waits for the first clone itself (sandbox-sync).
    assert keeper.urn in web.dependencies and ready.urn not in web.dependencies
    assert keeper.inputs["mounts"] == [
        {"type": "volume", "source": f"mirror-{app}", "target": MIRROR_PATH}
    ]


def test_a_private_repositorys_keeper_fetches_with_its_token(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, secret_keys=tuple(SECRET), **SECRET)
    keeper = run.by_name(f"fleet-mirror-{repo_slug(APP)}-keeper")
    env = dict(e.split("=", 1) for e in keeper.inputs["envs"])
    assert env["SANDBOX_GIT_TOKEN_VAR"] == "GITHUB_TOKEN"
    assert env["GITHUB_TOKEN"] == "mirror-test-token" and "envs" in keeper.secret_input_paths()
    assert (env["SANDBOX_MIRROR_REPO"], env["SANDBOX_MIRROR_EVERY"]) == (APP, "300")
    public = run.by_name(f"fleet-mirror-{repo_slug('https://github.com/acme/docs.git')}-keeper")
    assert "GITHUB_TOKEN" not in str(public.inputs["envs"])


def test_the_fetch_interval_is_a_setting(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, mirrorFetchSeconds=60, secret_keys=tuple(SECRET), **SECRET)
    keeper = run.by_name(f"fleet-mirror-{repo_slug(APP)}-keeper")
    assert "SANDBOX_MIRROR_EVERY=60" in keeper.inputs["envs"]


def test_a_sandbox_without_a_repository_has_no_mirror(run_spec: RunSpec) -> None:
    run = run_spec("version: 1\nsandboxes:\n  plain: {task: audit}\n")
    assert mirror_mounts(run, "plain") == []
    assert not [c for c in run.of_type("docker:index/container:Container") if "mirror" in c.name]


def test_a_stack_can_do_without_mirrors(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, mirrorEnabled=False, secret_keys=tuple(SECRET), **SECRET)
    assert run.error is None, run.error
    assert mirror_mounts(run, "web") == []
    assert not [c for c in run.of_type("docker:index/container:Container") if "mirror" in c.name]


def test_a_sandbox_behind_an_egress_list_clones_through_its_gateway_not_a_mirror(
    run_spec: RunSpec,
) -> None:
    """The keeper sits on ai-net, outside the list: a confined sandbox neither borrows from a
    mirror nor makes one; an open sandbox of the same repository still has its mirror."""
    spec = f"""version: 1
defaults:
  repo: {APP}
sandboxes:
  locked: {{task: audit, egress: [github.com]}}
"""
    run = run_spec(spec)
    assert run.error is None, run.error
    assert mirror_mounts(run, "locked") == []
    assert not [c for c in run.of_type("docker:index/container:Container") if "mirror" in c.name]
    both = run_spec(spec + "  open: {task: audit}\n")
    assert mirror_mounts(both, "locked") == [] and len(mirror_mounts(both, "open")) == 1
