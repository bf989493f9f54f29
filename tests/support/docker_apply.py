"""Create a recorded Pulumi program's Docker resources on a real engine, input for input.

Mocks accept anything; the engine does not. This applier takes what `run_program` recorded
(network, volumes, images, containers, the pids-limit command, the waits for readiness) and
creates it through the Docker SDK with exactly those inputs, the way pulumi-docker would (a wait
runs the program's own check, components/host/readiness_wait.py, against this engine). Every
input key it does not know raises `UnsupportedInput`: a silently dropped input would let a test
pass on something the real provider would reject or do differently.

Deletion follows Pulumi: a resource that left the program is deleted unless it is
`retain_on_delete`; deleting a `protect`ed one is an error. A changed container is replaced
(most container inputs are ForceNew in the provider; the few in-place ones are replaced here too).

Why it still exists beside the real engine (tests/e2e): every sandbox carries a pulumi-command
resource (its pids limit), and pulumi-command's provider module is refused by the Go module proxy
here (engine-versions.txt, blocked). The real engine creates sandboxes here only without that
command (tests/e2e/test_sandboxes_real_engine.py); the integration fleet, which checks the pids
limit among everything else, is applied by this applier for that reason alone.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import tarfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

import docker
import docker.errors
from docker.types import Healthcheck, LogConfig, Mount

from components.host.readiness_wait import NotReady, until_ready, watches_of
from tests.support import REPO_ROOT
from tests.support.pulumi_harness import Registered, Run

MIB = 1024 * 1024
LOCAL_HOST = "unix:///var/run/docker.sock"
FLEET_LABEL = "sandbox-fleet.fleet"
NETWORK = "docker:index/network:Network"
VOLUME = "docker:index/volume:Volume"
IMAGE = "docker:index/remoteImage:RemoteImage"
CONTAINER = "docker:index/container:Container"
COMMAND = "command:local:Command"
READINESS = "pulumi-python:dynamic/fleet:Readiness"
READINESS_HOST = "pulumi:providers:pulumi-python"
PIDS_LIMIT = re.compile(r'^docker update --pids-limit (\d+) "\$CONTAINER" >/dev/null$')
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNIT_NS = {"h": 3_600_000_000_000, "m": 60_000_000_000, "s": 1_000_000_000, "ms": 1_000_000}

Hook = Callable[[Registered, Any], None]  # (recorded container, docker Container) before start


class UnsupportedInput(ValueError):
    """A recorded input this applier cannot translate faithfully."""


def take(r: Registered, value: Mapping[str, Any], allowed: set[str], where: str = "") -> None:
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise UnsupportedInput(f"{r.urn}: {where or 'inputs'}: cannot apply {unknown}")


def num(value: Any) -> int:
    """Numbers arrive as floats from the wire; they must be whole."""
    if float(value) != int(value):
        raise ValueError(f"{value!r} is not a whole number")
    return int(value)


def go_duration_ns(text: str) -> int:
    """'5s', '1m0s', '500ms' -> nanoseconds (what the Engine API takes)."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{text!r} is not a Go duration")
    return sum(int(float(n) * _UNIT_NS[u]) for n, u in parts)


def label_dict(r: Registered, items: list[dict[str, Any]]) -> dict[str, str]:
    for item in items:
        take(r, item, {"label", "value"}, "labels")
    return {i["label"]: i["value"] for i in items}


# --- images -------------------------------------------------------------------------------


def dockerfile_inputs(context: Path, dockerfile: str) -> tuple[list[Path], list[str]]:
    """Files the build reads (Dockerfile, COPY/ADD sources) and the images it starts FROM."""
    text = (context / dockerfile).read_text().replace("\\\n", " ")
    args: dict[str, str] = {}
    files: list[Path] = [context / dockerfile]
    bases: list[str] = []
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        op = words[0].upper()
        if op == "ARG" and "=" in words[1] and not bases:
            key, _, default = words[1].partition("=")
            args[key] = default.strip("\"'")
        elif op == "FROM":
            bases.append(re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m[1], ""), words[1]))
        elif op in ("COPY", "ADD") and not any(w.startswith("--from") for w in words):
            for src in [w for w in words[1:-1] if not w.startswith("--")]:
                path = context / src
                files += [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    return files, bases


def _created(image: Any) -> float:
    stamp = re.sub(r"(\.\d{6})\d*", r"\1", image.attrs["Created"]).replace("Z", "+00:00")
    return datetime.fromisoformat(stamp).timestamp()


def stale_reason(client: docker.DockerClient, tag: str, context: Path, dockerfile: str) -> str:
    """Why `tag` must be (re)built, or "" when it is newer than everything its build reads."""
    try:
        built = _created(client.images.get(tag))
    except docker.errors.ImageNotFound:
        return "missing"
    files, bases = dockerfile_inputs(context, dockerfile)
    for path in files:
        if "__pycache__" not in path.parts and path.stat().st_mtime > built:
            return f"{path} changed after the image was built"
    for base in bases:
        try:
            if _created(client.images.get(base)) > built:
                return f"base image {base} is newer"
        except docker.errors.ImageNotFound:
            pass
    return ""


# --- containers -------------------------------------------------------------------------


def container_config(r: Registered, image_id: str) -> dict[str, Any]:
    """Keyword arguments of APIClient.create_container for a recorded docker.Container."""
    i = r.inputs
    take(r, i, {
        "name", "hostname", "image", "envs", "command", "mounts", "ports",
        "networksAdvanced", "healthcheck", "labels", "user", "capabilities", "securityOpts",
        "privileged", "memory", "memorySwap", "cpus", "cpuPeriod", "cpuQuota", "restart",
        "logDriver", "logOpts", "shmSize", "destroyGraceSeconds", "entrypoints", "networkMode",
        "attach", "mustRun", "wait", "waitTimeout", "uploads",
    })  # fmt: skip
    host: dict[str, Any] = {
        "privileged": bool(i.get("privileged", False)),
        "security_opt": list(i.get("securityOpts", [])) or None,
        "mounts": [_mount(r, m) for m in i.get("mounts", [])],
        "port_bindings": {},
    }
    if "capabilities" in i:
        take(r, i["capabilities"], {"drops", "adds"}, "capabilities")
        host["cap_drop"] = list(i["capabilities"].get("drops", [])) or None
        host["cap_add"] = list(i["capabilities"].get("adds", [])) or None
    for p in i.get("ports", []):
        take(r, p, {"internal", "external", "ip", "protocol"}, "ports")
        key = f"{num(p['internal'])}/{p.get('protocol', 'tcp')}"
        host["port_bindings"].setdefault(key, []).append((p["ip"], num(p["external"])))
    if "memory" in i:
        host["mem_limit"] = num(i["memory"]) * MIB
    if "memorySwap" in i:
        host["memswap_limit"] = num(i["memorySwap"]) * MIB
    if "cpus" in i:
        host["nano_cpus"] = round(float(i["cpus"]) * 1e9)
    if "cpuPeriod" in i:
        host["cpu_period"] = num(i["cpuPeriod"])
    if "cpuQuota" in i:
        host["cpu_quota"] = num(i["cpuQuota"])
    if i.get("restart", "no") != "no":
        host["restart_policy"] = {"Name": i["restart"]}
    if "logDriver" in i or "logOpts" in i:
        host["log_config"] = LogConfig(
            type=i.get("logDriver", "json-file"), config=i.get("logOpts")
        )
    if "shmSize" in i:
        host["shm_size"] = num(i["shmSize"]) * MIB
    if "networkMode" in i:
        host["network_mode"] = i["networkMode"]
    config: dict[str, Any] = {
        "image": image_id,
        "name": i["name"],
        "hostname": i.get("hostname"),
        "environment": list(i.get("envs", [])) or None,
        "command": list(i["command"]) if "command" in i else None,
        "entrypoint": list(i["entrypoints"]) if "entrypoints" in i else None,
        "user": i.get("user", ""),
        "labels": label_dict(r, i.get("labels", [])),
        "ports": [tuple(k.split("/")) for k in host["port_bindings"]],
        "healthcheck": _healthcheck(r, i["healthcheck"]) if "healthcheck" in i else None,
        "host_config": host,
    }
    return config


def _upload(r: Registered, u: Mapping[str, Any]) -> tuple[str, bytes]:
    """(directory, tar archive) of one `uploads` entry: its file, owned by root as the provider
    writes it, with its permissions."""
    take(r, u, {"file", "content", "permissions"}, "uploads")
    path, data = PurePosixPath(u["file"]), str(u["content"]).encode()
    info = tarfile.TarInfo(path.name)
    info.size, info.mode = len(data), int(u.get("permissions", "0644"), 8)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.addfile(info, io.BytesIO(data))
    return str(path.parent), buffer.getvalue()


def _mount(r: Registered, m: Mapping[str, Any]) -> Mount:
    take(r, m, {"type", "source", "target", "readOnly"}, "mounts")
    if m["type"] != "volume":
        raise UnsupportedInput(f"{r.urn}: mounts: type {m['type']!r} is not supported")
    return Mount(m["target"], m["source"], type="volume", read_only=bool(m.get("readOnly")))


def _healthcheck(r: Registered, h: Mapping[str, Any]) -> Healthcheck:
    take(r, h, {"tests", "interval", "timeout", "startPeriod", "retries"}, "healthcheck")
    return Healthcheck(
        test=list(h["tests"]),
        interval=go_duration_ns(h.get("interval", "0s")),
        timeout=go_duration_ns(h.get("timeout", "0s")),
        start_period=go_duration_ns(h.get("startPeriod", "0s")),
        retries=num(h.get("retries", 0)),
    )


# --- the applier ------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One resource created (or re-run) by a reconcile; times from time.monotonic()."""

    resource: Registered
    start: float
    end: float


class DockerApplier:
    """Converges a real engine to recorded runs. One instance per fleet."""

    def __init__(
        self,
        client: docker.DockerClient,
        *,
        docker_host: str = LOCAL_HOST,
        extra_build_args: Mapping[str, Mapping[str, str]] | None = None,
        after_storage: Callable[[docker.DockerClient], None] | None = None,
        before_start: Hook | None = None,
    ) -> None:
        self.client = client
        self.docker_host = docker_host
        self.extra_build_args = extra_build_args or {}  # by tag: host-specific (e.g. proxy CAs)
        self.after_storage = after_storage
        self.before_start = before_start
        self.built: list[str] = []  # tags this applier (re)built, for reports
        self.steps: list[Step] = []  # what the last reconcile created, in order, with times

    def apply(self, run: Run) -> None:
        self.reconcile(Run(), run)

    def reconcile(self, old: Run, new: Run) -> None:
        if new.error is not None:
            raise RuntimeError(f"the program failed; nothing applied: {new.error}")
        before = {r.urn: r for r in dependency_order(old.resources)}
        after = {r.urn: r for r in dependency_order(new.resources)}
        for r in after.values():
            self._check_known(r)
        changed = {u for u in before.keys() & after.keys() if before[u].inputs != after[u].inputs}
        for urn in reversed([u for u in before if u not in after or u in changed]):
            self._delete(before[urn])
        todo = {u for u in after if u not in before or u in changed}
        images = self._images([r for r in after.values() if r.type == IMAGE])
        containers: dict[str, str] = {}  # mock id -> real id
        created: set[str] = set()  # mock ids of the containers made in this pass
        hook = self.after_storage
        self.steps = []
        for r in after.values():  # dependencies first, as Pulumi walks the graph
            start = time.monotonic()
            if r.type in (NETWORK, VOLUME) and r.urn in todo:
                self._storage(r)
            elif r.type == CONTAINER and r.urn in todo:
                if hook is not None:
                    hook(self.client)  # once, before the first container of this pass
                    hook = None
                containers[f"{r.name}-id"] = self._container(r, images)
                created.add(f"{r.name}-id")
            elif r.type == CONTAINER:
                containers[f"{r.name}-id"] = self.client.containers.get(r.inputs["name"]).id
                continue
            elif r.type == COMMAND and r.urn in todo:
                self._command(r, containers)
            elif r.type == READINESS and r.urn in todo:
                self._readiness(r, created)
            else:
                continue
            self.steps.append(Step(r, start, time.monotonic()))

    def _check_known(self, r: Registered) -> None:
        if r.type == "pulumi:providers:docker":
            take(r, r.inputs, {"host"})
            if r.inputs.get("host") != self.docker_host:
                raise UnsupportedInput(f"{r.urn}: host {r.inputs.get('host')!r} is not this engine")
        elif r.type == READINESS_HOST:  # the SDK's dynamic provider host: nothing to make
            take(r, r.inputs, set())
        elif r.type not in (NETWORK, VOLUME, IMAGE, CONTAINER, COMMAND, READINESS):
            raise UnsupportedInput(f"{r.urn}: resource type {r.type} is not supported")

    def _storage(self, r: Registered) -> None:
        i = r.inputs
        if r.type == NETWORK:
            take(r, i, {"name", "driver", "labels"})
            self.client.networks.create(
                i["name"], driver=i.get("driver", "bridge"),
                labels=label_dict(r, i.get("labels", [])), check_duplicate=True,
            )  # fmt: skip
        else:
            take(r, i, {"name", "labels"})
            # Like the provider: an existing volume of that name (a retained one) is adopted.
            self.client.volumes.create(name=i["name"], labels=label_dict(r, i.get("labels", [])))

    def _images(self, recorded: list[Registered]) -> dict[str, str]:
        """urn -> real image id; builds what is missing or older than its build inputs."""
        ids: dict[str, str] = {}
        for r in _build_order(recorded):
            take(r, r.inputs, {"name", "build", "triggers", "keepLocally"})
            tag = r.inputs["name"]
            build = r.inputs.get("build")
            if build is not None:
                take(r, build, {"context", "dockerfile", "buildArgs"}, "build")
                # Relative to the project directory, as the engine runs the program there.
                context = REPO_ROOT / build["context"]
                dockerfile = build.get("dockerfile", "Dockerfile")
                if stale_reason(self.client, tag, context, dockerfile):
                    args = {**build.get("buildArgs", {}), **self.extra_build_args.get(tag, {})}
                    self.client.images.build(
                        path=str(context), dockerfile=dockerfile, tag=tag, buildargs=args,
                        rm=True, forcerm=True, timeout=3600,
                    )  # fmt: skip
                    self.built.append(tag)
            ids[r.urn] = str(self.client.images.get(tag).id)  # ImageNotFound: must exist
        return ids

    def _container(self, r: Registered, images: dict[str, str]) -> str:
        sources = [u for u in r.dependencies if u in images]
        if len(sources) != 1 or not str(r.inputs.get("image", "")).startswith("sha256:"):
            raise UnsupportedInput(f"{r.urn}: image must be one RemoteImage's imageId")
        api = self.client.api
        config = container_config(r, images[sources[0]])
        host = config.pop("host_config")
        networks = r.inputs.get("networksAdvanced", [])
        for n in networks:
            take(r, n, {"name", "aliases"}, "networksAdvanced")
        endpoints = {
            n["name"]: api.create_endpoint_config(aliases=list(n.get("aliases", [])) or None)
            for n in networks
        }
        first = dict(list(endpoints.items())[:1])
        created = api.create_container(
            **config,
            host_config=api.create_host_config(**host),
            networking_config=api.create_networking_config(first) if first else None,
        )
        container = self.client.containers.get(created["Id"])
        for upload in r.inputs.get("uploads", []):  # as the provider: written before start
            directory, archive = _upload(r, upload)
            container.put_archive(directory, archive)
        for name, endpoint in list(endpoints.items())[1:]:
            api.connect_container_to_network(container.id, name, aliases=endpoint.get("Aliases"))
        if self.before_start is not None:
            self.before_start(r, container)
        container.start()
        if r.inputs.get("attach"):  # pulumi-docker waits for the run to end, then moves on
            container.wait(timeout=120)
        if r.inputs.get("wait"):  # pulumi-docker waits for healthy, or fails the create
            wait_healthy(container, float(r.inputs.get("waitTimeout", 60)), r.urn)
        return str(container.id)

    def _command(self, r: Registered, containers: Mapping[str, str]) -> None:
        """Run a known local command for real, as pulumi-command does (`/bin/sh -c create`)."""
        take(r, r.inputs, {"create", "stdin", "environment", "triggers", "addPreviousOutputInEnv"})
        create, env = r.inputs.get("create", ""), dict(r.inputs.get("environment", {}))
        if PIDS_LIMIT.match(create) and set(env) == {"CONTAINER", "DOCKER_HOST"}:
            env["CONTAINER"] = containers[env["CONTAINER"]]  # the mock id -> the real one
        elif create == "/bin/sh -s" and "stdin" in r.inputs:  # a script on stdin (preflight)
            if r.inputs.get("addPreviousOutputInEnv", True):
                raise UnsupportedInput(f"{r.urn}: addPreviousOutputInEnv is not supported")
        else:
            raise UnsupportedInput(f"{r.urn}: unknown command {create!r}")
        done = subprocess.run(
            ["/bin/sh", "-c", create], input=r.inputs.get("stdin", ""), env={**os.environ, **env},
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if done.returncode != 0:  # Pulumi stops here too: dependents are not created
            raise RuntimeError(f"{r.urn}: exit {done.returncode}:\n{done.stdout}{done.stderr}")

    def _readiness(self, r: Registered, created: set[str]) -> None:
        """Wait as the provider does, through the docker CLI of this engine, for the containers
        made in this pass (the provider: for the ids it has not seen; the mock ids here stay the
        same when a container is replaced)."""
        take(r, r.inputs, {"__provider", "watched", "timeout_seconds", "cli"})
        for watched in r.inputs["watched"]:
            take(r, watched, {"container_id", "container", "subject", "probe"}, "watched")
        if r.inputs["cli"] != ["docker", "--host", self.docker_host]:
            raise UnsupportedInput(f"{r.urn}: cli {r.inputs['cli']} is not this engine's")
        fresh = watches_of(r.inputs, only=lambda container_id: container_id in created)
        try:
            until_ready(fresh, float(r.inputs["timeout_seconds"]))
        except NotReady as e:  # Pulumi stops here too: dependents are not created
            raise RuntimeError(f"{r.urn}: {e}") from e

    def _delete(self, r: Registered) -> None:
        if r.protect:
            raise RuntimeError(f"{r.urn} is protected; Pulumi refuses to delete it")
        if r.retain_on_delete:  # also on replace: Pulumi leaves the old one where it is
            return
        name = r.inputs.get("name", "")
        try:
            if r.type == CONTAINER:
                c = self.client.containers.get(name)
                c.stop(timeout=num(r.inputs.get("destroyGraceSeconds", 0)))
                c.remove(v=True, force=True)
            elif r.type == VOLUME:
                self.client.volumes.get(name).remove(force=True)
            elif r.type == NETWORK:
                self.client.networks.get(name).remove()
            elif r.type == IMAGE and not r.inputs.get("keepLocally"):
                self.client.images.remove(name)
        except docker.errors.NotFound:
            pass


def wait_healthy(container: Any, timeout_s: float, urn: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        container.reload()
        if container.attrs["State"].get("Health", {}).get("Status") == "healthy":
            return
        time.sleep(1)
    raise RuntimeError(f"{urn}: container failed to be in healthy state")


def dependency_order(resources: list[Registered]) -> list[Registered]:
    """Custom resources, each after everything it depends on (inputs, depends_on, provider)."""
    by_urn = {r.urn: r for r in resources if r.custom}
    done: dict[str, Registered] = {}

    def visit(r: Registered) -> None:
        if r.urn in done:
            return
        provider = [r.provider.rsplit("::", 1)[0]] if r.provider else []
        for urn in [*r.dependencies, *provider]:
            if urn in by_urn:
                visit(by_urn[urn])
        done[r.urn] = r

    for r in by_urn.values():
        visit(r)
    return list(done.values())


def _build_order(images: list[Registered]) -> list[Registered]:
    """Images whose Dockerfile starts FROM another recorded tag come after that one."""
    by_tag = {r.inputs["name"]: r for r in images}
    done: list[Registered] = []

    def visit(r: Registered) -> None:
        if r in done:
            return
        build = r.inputs.get("build")
        if build is not None:
            dockerfile = build.get("dockerfile", "Dockerfile")
            _, bases = dockerfile_inputs(Path(build["context"]), dockerfile)
            for base in bases:
                if base in by_tag and by_tag[base] is not r:
                    visit(by_tag[base])
        done.append(r)

    for r in images:
        visit(r)
    return done


def destroy_all(client: docker.DockerClient, prefix: str) -> None:
    """Remove every container, volume and network named `prefix*` that carries the fleet label
    (test and benchmark cleanup; retained volumes included)."""
    if not prefix:
        raise ValueError("refusing to destroy without a name prefix")
    label = {"label": FLEET_LABEL}
    for c in client.containers.list(all=True, filters=label):
        if c.name.startswith(prefix):
            c.remove(force=True, v=True)
    for v in client.volumes.list(filters=label):
        if v.name.startswith(prefix):
            v.remove(force=True)
    for n in client.networks.list(filters=label):
        if n.name.startswith(prefix):
            n.remove()
