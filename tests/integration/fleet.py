"""Helpers of the real-engine tests: the fixture fleet, a local git server, bounded waits."""

from __future__ import annotations

import io
import ipaddress
import json
import socket
import subprocess
import tarfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import docker
import yaml

from tests.support import REPO_ROOT
from tests.support.docker_apply import FLEET_LABEL, DockerApplier
from tests.support.pulumi_harness import Run, run_program, stack_config

PREFIX = "sfit-"
FLEET = f"{PREFIX}sandbox-fleet"  # the fleet label value the program gives this prefix
SPEC_TEMPLATE = Path(__file__).with_name("sandboxes.yaml")
REPO_PLACEHOLDER = "@GIT_REPO@"
MODEL_FILE = "model.gguf"
T = TypeVar("T")


def wait_for(check: Callable[[], T | None], what: str, timeout_s: float, every_s: float = 1) -> T:
    """Poll `check` until it returns something truthy; fail after `timeout_s` naming `what`."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every_s)
    raise AssertionError(f"{what}: not reached within {timeout_s:.0f}s (last: {last!r})")


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


def local_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def http_json(url: str, body: Mapping[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, json.loads(resp.read())


# --- the local git server ---------------------------------------------------------------


def bridge_gateway(client: docker.DockerClient) -> str:
    """The default bridge's gateway: a host address every container can route to."""
    ipam = client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    gateway = ipam.get("Gateway") or str(next(ipaddress.ip_network(ipam["Subnet"]).hosts()))
    with socket.socket() as s:
        s.bind((gateway, 0))  # fails unless the address is on this host
    return str(gateway)


@dataclass
class GitServer:
    url: str
    heads: dict[str, str]  # branch -> commit


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@contextmanager
def git_daemon(root: Path, address: str) -> Iterator[GitServer]:
    """`git daemon` serving proj.git (main, feature-a) on `address` only (never 0.0.0.0)."""
    bare, work = root / "proj.git", root / "work"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    subprocess.run(["git", "clone", "-q", str(bare), str(work)], check=True, capture_output=True)
    ident = ["-c", "user.name=sfit", "-c", "user.email=sfit@example.invalid"]
    (work / "README.md").write_text("fixture repository\n")
    _git(work, "add", "README.md")
    _git(work, *ident, "commit", "-q", "-m", "main: first")
    _git(work, "checkout", "-q", "-b", "feature-a")
    (work / "feature.txt").write_text("feature a\n")
    _git(work, "add", "feature.txt")
    _git(work, *ident, "commit", "-q", "-m", "feature-a: work")
    _git(work, "push", "-q", "origin", "main", "feature-a")
    heads = {b: _git(work, "rev-parse", b) for b in ("main", "feature-a")}
    port = local_port(address)
    daemon = subprocess.Popen(
        ["git", "daemon", "--export-all", "--reuseaddr", f"--base-path={root}",
         f"--listen={address}", f"--port={port}", str(root)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:

        def answers() -> bool:
            try:
                socket.create_connection((address, port), timeout=1).close()
                return True
            except OSError:
                return False

        wait_for(answers, "git daemon listening", 20, every_s=0.2)
        yield GitServer(f"git://{address}:{port}/proj.git", heads)
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)


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


def stack(spec: Path, overrides: Mapping[str, Any]) -> Run:
    config = stack_config(REPO_ROOT / "Pulumi.dev.yaml", {**overrides, "spec": str(spec)})
    run = run_program(REPO_ROOT / "__main__.py", config)
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

    def containers(self) -> list[str]:
        return [r.inputs["name"] for r in self.run.of_type("docker:index/container:Container")]
