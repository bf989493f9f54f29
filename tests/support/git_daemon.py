"""A local `git daemon` with a fixture repository, reachable from containers, and bounded waits:
what the real-engine tests and the benchmarks clone from."""

from __future__ import annotations

import ipaddress
import random
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import docker

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


def local_port(host: str = "127.0.0.1") -> int:
    """A free port for a listener that lives as long as the caller holds it."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def service_port(host: str = "127.0.0.1") -> int:
    """A free port for a service that is stopped and started again across `up`s (the supervisor)."""
    return port_block(1, host)


def port_block(size: int, host: str = "127.0.0.1") -> int:
    """The first of `size` consecutive free ports, for services and sandboxes (`ssh_port:`) that
    are stopped and started again across `up`s.

    They come from below the kernel's ephemeral range: a port from `local_port` is free only until
    the kernel hands it out again, and between two `up`s it does, to the engine's own plugin
    listeners or an outgoing connection (CI runs lost the supervisor's port and a sandbox's
    name-derived SSH port that way)."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for start in random.sample(range(20000, low - size), 200):
        if all(_free(host, port) for port in range(start, start + size)):
            return start
    raise AssertionError(f"no {size} free consecutive ports between 20000 and {low} on {host}")


def _free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def bridge_gateway(client: docker.DockerClient) -> str:
    """The default bridge's gateway: a host address every container can route to."""
    ipam = client.networks.get("bridge").attrs["IPAM"]["Config"][0]
    gateway = ipam.get("Gateway") or str(next(ipaddress.ip_network(ipam["Subnet"]).hosts()))
    with socket.socket() as s:
        s.bind((gateway, 0))  # fails unless the address is on this host
    return str(gateway)


def answers(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=1).close()
        return True
    except OSError:
        return False


@dataclass
class GitServer:
    url: str
    heads: dict[str, str]  # branch -> commit


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def fixture_repository(root: Path) -> dict[str, str]:
    """root/proj.git with branches main and feature-a; returns branch -> commit."""
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
    return {b: _git(work, "rev-parse", b) for b in ("main", "feature-a")}


@contextmanager
def git_daemon(root: Path, address: str) -> Iterator[GitServer]:
    """`git daemon` serving proj.git (main, feature-a) on `address` only (never 0.0.0.0)."""
    heads = fixture_repository(root)
    port = local_port(address)
    daemon = subprocess.Popen(
        ["git", "daemon", "--export-all", "--reuseaddr", f"--base-path={root}",
         f"--listen={address}", f"--port={port}", str(root)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: answers(address, port), "git daemon listening", 20, every_s=0.2)
        yield GitServer(f"git://{address}:{port}/proj.git", heads)
    finally:
        daemon.terminate()
        daemon.wait(timeout=10)
