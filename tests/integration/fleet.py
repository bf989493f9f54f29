"""Helpers of the real-engine tests: the fixture fleet, a local git server, bounded waits."""

from __future__ import annotations

import io
import json
import tarfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import docker
import yaml

from tests.support import REPO_ROOT
from tests.support.docker_apply import FLEET_LABEL, DockerApplier
from tests.support.git_daemon import GitServer, wait_for
from tests.support.pulumi_harness import Run, run_program, stack_config

PREFIX = "sfit-"
FLEET = f"{PREFIX}sandbox-fleet"  # the fleet label value the program gives this prefix
SPEC_TEMPLATE = Path(__file__).with_name("sandboxes.yaml")
REPO_PLACEHOLDER = "@GIT_REPO@"
MODEL_FILE = "model.gguf"
T = TypeVar("T")


def health(client: docker.DockerClient, name: str) -> str:
    state = client.api.inspect_container(name)["State"]
    return str(state.get("Health", {}).get("Status") or state["Status"])


def wait_healthy(client: docker.DockerClient, names: list[str], timeout_s: float = 240) -> None:
    def unhealthy() -> dict[str, str]:
        return {n: s for n in names if (s := health(client, n)) != "healthy"}

    try:
        wait_for(lambda: not unhealthy() or None, "all healthy", timeout_s, every_s=2)
    except AssertionError as timeout:
        report = {}
        for name, status in unhealthy().items():
            log = client.api.inspect_container(name)["State"].get("Health", {}).get("Log", [])
            tail = client.containers.get(name).logs(tail=15).decode(errors="replace")
            report[name] = f"{status}; last probe: {log[-1:]}; logs:\n{tail}"
        raise AssertionError(
            f"not healthy after {timeout_s}s: {json.dumps(report, indent=1)}"
        ) from timeout


def exec_in(client: docker.DockerClient, name: str, *cmd: str) -> tuple[int, str]:
    code, out = client.containers.get(name).exec_run(list(cmd))
    return int(code), out.decode(errors="replace").strip()


def http_json(
    url: str, body: Mapping[str, Any] | None = None, *, token: str = ""
) -> tuple[int, Any]:
    """(status, JSON body), 4xx and 5xx included; `token` goes as a bearer token."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


# --- the fleet --------------------------------------------------------------------------


def write_spec(target: Path, repo: str, *, drop: tuple[str, ...] = ()) -> Path:
    """The fixture spec with the git server's URL, minus the entries in `drop`."""
    text = SPEC_TEMPLATE.read_text().replace(REPO_PLACEHOLDER, repo)
    if drop:
        doc = yaml.safe_load(text)
        for name in drop:
            del doc["sandboxes"][name]
        text = yaml.safe_dump(doc, sort_keys=False)
    target.write_text(text)
    return target


# The values of the `secrets:` the fixture spec names, set as Pulumi secrets.
SPEC_SECRETS = {"FIXTURE_TOKEN": "fixture-token-value"}


def stack(spec: Path, overrides: Mapping[str, Any]) -> Run:
    config = stack_config(
        REPO_ROOT / "Pulumi.dev.yaml", {**SPEC_SECRETS, **overrides, "spec": str(spec)}
    )
    run = run_program(REPO_ROOT / "__main__.py", config, secret_keys=tuple(SPEC_SECRETS))
    if run.error is not None:
        raise AssertionError(f"the program failed under mocks: {run.error}")
    return run


def model_tar(model: Path, name: str = MODEL_FILE) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tar.gettarinfo(str(model), arcname=name)
        info.uid = info.gid = 1000
        info.mode = 0o644
        with model.open("rb") as f:
            tar.addfile(info, f)
    return buf.getvalue()


def load_model(client: docker.DockerClient, volume: str, image: str, model: Path) -> None:
    """Copy the GGUF into the model volume through a created, never started container (the
    model server mounts it read-only, and put_archive refuses read-only mounts)."""
    loader = client.containers.create(
        image, entrypoint=["true"], name=f"{PREFIX}model-loader", labels={FLEET_LABEL: FLEET},
        volumes={volume: {"bind": "/models", "mode": "rw"}}, network_disabled=True,
    )  # fmt: skip
    try:
        assert loader.put_archive("/models", model_tar(model))
    finally:
        loader.remove(force=True)


@dataclass
class Fleet:
    """The fixture fleet as applied: the recorded run, the applier, how to reach things."""

    client: docker.DockerClient
    applier: DockerApplier
    run: Run
    overrides: dict[str, Any]
    git: GitServer
    key: Path  # the private key whose public half is in sshAuthorizedKeys
    workdir: Path
    removed: list[str] = field(default_factory=list)

    @property
    def sandboxes(self) -> dict[str, Any]:
        return dict(self.run.outputs["sandboxes"])

    @property
    def supervisor_url(self) -> str:
        return str(self.run.outputs["supervisor"]["apiUrl"])

    @property
    def supervisor_token(self) -> str:
        return str(self.run.outputs["supervisor"]["apiToken"])

    def containers(self) -> list[str]:
        """The long-running containers (not the keys writer, which runs once and exits)."""
        recorded = self.run.of_type("docker:index/container:Container")
        return [r.inputs["name"] for r in recorded if not r.inputs.get("attach")]
