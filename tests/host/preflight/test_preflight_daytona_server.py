"""The preflight of a stack that runs Daytona's own server, run for real (dash and bash) against
a fake host: fake engine and df, fixture /proc and /sys trees."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from components.host.preflight import SCRIPT_PATH, PreflightArgs, preflight_script
from components.settings import PreflightSettings
from tests.support.capacity_reference import GIB

SHELLS = ["/bin/sh", "/bin/bash"]
SYSTEM_TOOLS = ["id", "hostname", "timeout", "getconf", "awk", "grep", "cat"]
ARGS = PreflightArgs(
    settings=PreflightSettings(), engine="docker", requested_memory_bytes=GIB,
    requested_cpus=1.0, daytona_server_disk_bytes=50 * GIB,
)  # fmt: skip


class FakeHost:
    def __init__(self, root: Path, shell: str) -> None:
        self.root, self.shell = root, shell
        (root / "bin").mkdir()
        for tool in SYSTEM_TOOLS:
            if found := shutil.which(tool):
                (root / "bin" / tool).symlink_to(found)
        self.tool("nproc", "echo 4")
        self.tool(
            "docker",
            'case "$*" in *DockerRootDir*) echo "$FAKE_ROOT_DIR" ;; '
            '*SecurityOptions*) echo "$FAKE_SECURITY" ;; *) echo "Server Version: 27.0" ;; esac',
        )
        self.tool(
            "df",
            'echo "Filesystem 1024-blocks Used Available Capacity Mounted on"; '
            'echo "/dev/fake 999999999 1 $FAKE_FREE_KB 1% /"',
        )
        (root / "meminfo").write_text("MemTotal: 16777216 kB\n")
        (root / "engine-data").mkdir()
        self.proc, self.sys = root / "proc", root / "sys"
        (self.proc / "net").mkdir(parents=True)
        (self.proc / "filesystems").write_text("nodev\tproc\nnodev\toverlay\n\text4\n")
        (self.proc / "net" / "ip_tables_names").write_text("filter\nnat\n")
        (self.sys / "fs" / "cgroup").mkdir(parents=True)
        (self.sys / "fs" / "cgroup" / "cgroup.controllers").write_text(
            "cpuset cpu io memory pids\n"
        )

    def tool(self, name: str, body: str) -> None:
        path = self.root / "bin" / name
        path.write_text("#!/bin/sh\n" + body + "\n")
        path.chmod(0o755)

    def run(
        self, free_gib: int = 100, security: str = "[name=seccomp]"
    ) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": str(self.root / "bin"),
            "PREFLIGHT_MEMINFO": str(self.root / "meminfo"),
            "PREFLIGHT_PROC": str(self.proc),
            "PREFLIGHT_SYS": str(self.sys),
            "PREFLIGHT_ENGINE": "docker",
            "PREFLIGHT_REQUESTED_MEMORY_BYTES": str(GIB),
            "PREFLIGHT_REQUESTED_MILLICPUS": "1000",
            "PREFLIGHT_TIMEOUT": "5",
            "PREFLIGHT_DAYTONA_SERVER_DISK_BYTES": str(50 * GIB),
            "FAKE_ROOT_DIR": str(self.root / "engine-data"),
            "FAKE_SECURITY": security,
            "FAKE_FREE_KB": str(free_gib * 1024 * 1024),
        }
        return subprocess.run(
            [self.shell, "-s"], input=preflight_script(ARGS), env=env,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip


@pytest.fixture(params=SHELLS, ids=["dash", "bash"])
def host(request: pytest.FixtureRequest, tmp_path: Path) -> FakeHost:
    return FakeHost(tmp_path, request.param)


def failures(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [x for x in done.stderr.splitlines() if x.startswith("preflight FAILED: ")]


def test_a_host_with_what_the_server_needs_passes_and_is_told_about_the_privileged_runner(
    host: FakeHost,
) -> None:
    done = host.run()
    assert done.returncode == 0, done.stderr
    assert "preflight ok: daytona server: its runner runs privileged" in done.stdout
    assert "the fleet's one privileged container" in done.stdout
    assert f"100.00 GiB free at {host.root / 'engine-data'}" in done.stdout
    assert "packet filtering (iptables or nftables) is loaded" in done.stdout
    assert "WARNING" not in done.stdout
    assert "preflight: all checks passed" in done.stdout


def test_too_little_disk_for_the_runner_stops_the_deployment(host: FakeHost) -> None:
    done = host.run(free_gib=10)
    assert done.returncode == 1
    [line] = failures(done)
    assert "10.00 GiB free at" in line and "its runner needs 50.00 GiB" in line
    assert "sandbox-fleet:daytonaServerDisk" in line


def test_a_rootless_engine_is_warned_about_not_refused(host: FakeHost) -> None:
    done = host.run(security="[name=seccomp,profile=default name=rootless name=cgroupns]")
    assert done.returncode == 0, done.stderr
    assert "preflight WARNING: daytona server: the docker engine runs rootless" in done.stdout


def test_missing_kernel_features_are_named(host: FakeHost) -> None:
    (host.sys / "fs" / "cgroup" / "cgroup.controllers").write_text("cpu memory\n")
    (host.proc / "net" / "ip_tables_names").unlink()
    (host.proc / "filesystems").write_text("nodev\tproc\n\text4\n")
    done = host.run()
    assert done.returncode == 1
    found = failures(done)
    assert any("cgroup v2 controller 'pids' is not enabled" in line for line in found), found
    assert any("neither iptables nor nftables" in line for line in found), found
    assert "no overlay filesystem loaded" in done.stdout, "a warning: the engine falls back"
    (host.sys / "module" / "nf_tables").mkdir(parents=True)  # nftables alone is enough
    assert not any("nftables" in line for line in failures(host.run()))


def test_other_stacks_run_the_script_unchanged() -> None:
    plain = PreflightArgs(
        settings=PreflightSettings(), engine="docker", requested_memory_bytes=GIB,
        requested_cpus=1.0,
    )  # fmt: skip
    assert preflight_script(plain) == SCRIPT_PATH.read_text()
    assert preflight_script(ARGS).startswith(SCRIPT_PATH.read_text().split('\nif [ "$failures"')[0])
