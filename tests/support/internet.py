"""A stand-in for the internet, for the egress tests: one HTTPS server on a Docker network the
test creates in TEST-NET-2 (198.51.100.0/24, a range no deny list holds), answering under
several names (Docker DNS aliases on that network, so only containers on it resolve them).

It serves a page that names the server and a git repository over git's dumb HTTP protocol
(static files, `git update-server-info`), so a sandbox can clone through its egress gateway.
Its certificate is self-signed for every name; clients set GIT_SSL_NO_VERIFY or skip checks.
It runs from the project's supervisor image (Python, no shell tools), uid 1000, no capabilities.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from tests.support import ensure_project_image

SUBNET = "198.51.100.0/24"
ADDRESS = "198.51.100.10"
PAGE = "hello from the stand-in internet\n"
SERVER = """
import http.server, ssl, sys
handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory="/srv/www")
server = http.server.ThreadingHTTPServer(("0.0.0.0", 443), handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain("/srv/cert.pem", "/srv/key.pem")
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"""


@dataclass(frozen=True)
class Internet:
    network: str
    container: str
    names: tuple[str, ...]

    def connect(self, engine: docker.DockerClient, container: str) -> None:
        engine.networks.get(self.network).connect(container)

    def connect_when_created(
        self, engine: docker.DockerClient, name: str, within_s: float = 600
    ) -> threading.Thread:
        """Join the container `name` to this network as soon as `pulumi up` creates it (a new
        one, when a container of that name exists already), polling at most `within_s` s."""
        try:
            old = engine.containers.get(name).id
        except docker.errors.NotFound:
            old = None

        def poll() -> None:
            deadline = time.monotonic() + within_s
            while time.monotonic() < deadline:
                try:
                    found = engine.containers.get(name)
                    if found.id != old:
                        self.connect(engine, found.id or name)
                        return
                except docker.errors.NotFound:
                    pass
                time.sleep(0.2)

        thread = threading.Thread(target=poll, daemon=True)
        thread.start()
        return thread


def _certificate(directory: Path, names: tuple[str, ...]) -> None:
    sans = ",".join(f"DNS:{n}" for n in names)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(directory / "key.pem"), "-out", str(directory / "cert.pem"),
         "-subj", f"/CN={names[0]}", "-addext", f"subjectAltName={sans}"],
        check=True, capture_output=True,
    )  # fmt: skip


def _repository(directory: Path) -> Path:
    """A bare repository with one commit on main, served as static files."""
    work, bare = directory / "work", directory / "www" / "app.git"
    env = ["-c", "user.name=internet", "-c", "user.email=internet@example.test"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    (work / "README.md").write_text("served by the stand-in internet\n")
    subprocess.run(["git", "-C", str(work), "add", "README.md"], check=True)
    subprocess.run(["git", "-C", str(work), *env, "commit", "-q", "-m", "first"], check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    subprocess.run(["git", "-C", str(bare), "update-server-info"], check=True)
    return bare


def _archive(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in ("cert.pem", "key.pem", "www"):
            tar.add(directory / name, arcname=f"srv/{name}", filter=_readable)
    return buffer.getvalue()


def _readable(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 1000
    info.mode = 0o755 if info.isdir() else 0o644
    return info


@contextmanager
def stand_in_internet(
    engine: docker.DockerClient, prefix: str, directory: Path, names: tuple[str, ...]
) -> Iterator[Internet]:
    directory.mkdir(parents=True, exist_ok=True)
    _certificate(directory, names)
    (directory / "www").mkdir()
    (directory / "www" / "index.html").write_text(PAGE)
    _repository(directory)
    image = ensure_project_image(engine, "supervisor")
    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=SUBNET)])
    network = engine.networks.create(f"{prefix}internet", ipam=ipam)
    container = engine.containers.create(
        image, ["python3", "-c", SERVER], name=f"{prefix}internet-web", user="1000:1000",
        cap_drop=["ALL"], security_opt=["no-new-privileges"], entrypoint=[],
        sysctls={"net.ipv4.ip_unprivileged_port_start": "0"}, network=network.name,
        mem_limit="128m", pids_limit=64,
    )  # fmt: skip
    try:
        network.disconnect(container)
        network.connect(container, ipv4_address=ADDRESS, aliases=list(names))
        container.put_archive("/", _archive(directory))
        container.start()
        yield Internet(network.name, container.name or "", names)
    finally:
        container.remove(force=True)
        network.reload()
        for joined in network.containers:
            network.disconnect(joined, force=True)
        network.remove()
