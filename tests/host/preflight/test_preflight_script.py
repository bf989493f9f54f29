"""components/host/preflight_check.sh run for real (dash and bash) against fake host tools and
fixture /proc/meminfo files; its capacity verdicts and wording must equal those of
tests/support/capacity_reference.py."""

from __future__ import annotations

import http.server
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.host.preflight import SCRIPT_PATH
from tests.support.capacity_reference import GIB, CapacityError, check_capacity

SHELLS = ["/bin/sh", "/bin/bash"]
SYSTEM_TOOLS = ["id", "hostname", "timeout", "curl", "getconf", "sleep"]


@dataclass
class Host:
    """A fake host: its tools live in `bin`, only a few real ones are reachable."""

    root: Path
    shell: str = "/bin/sh"
    env: dict[str, str] = field(default_factory=dict)

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def tool(self, name: str, body: str) -> None:
        path = self.bin / name
        path.write_text("#!/bin/sh\n" + body + "\n")
        path.chmod(0o755)

    def meminfo(self, mem_total_kb: int) -> None:
        (self.root / "meminfo").write_text(
            f"MemTotal:       {mem_total_kb} kB\nMemFree:         1234 kB\n"
            "MemAvailable:    5678 kB\n"
        )

    def run(self, **overrides: str) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": f"{self.bin}:{self.root / 'sys'}",
            "PREFLIGHT_MEMINFO": str(self.root / "meminfo"),
            **self.env,
            **overrides,
        }
        return subprocess.run(
            [self.shell, "-s"],
            input=SCRIPT_PATH.read_text(),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )


@pytest.fixture(params=SHELLS, ids=["dash", "bash"])
def host(request: pytest.FixtureRequest, tmp_path: Path) -> Host:
    fake = Host(tmp_path, shell=request.param)
    fake.bin.mkdir()
    (tmp_path / "sys").mkdir()
    for tool in SYSTEM_TOOLS:  # a PATH without the machine's real docker/podman/tailscale
        found = shutil.which(tool)
        if found:
            (tmp_path / "sys" / tool).symlink_to(found)
    fake.tool("docker", 'echo "Server Version: 27.0"')
    fake.tool("nproc", "echo 4")
    fake.meminfo(16 * 1024 * 1024)  # 16 GiB
    fake.env = {
        "PREFLIGHT_ENGINE": "docker",
        "PREFLIGHT_REQUESTED_MEMORY_BYTES": str(8 * GIB),
        "PREFLIGHT_REQUESTED_MILLICPUS": "2000",
        "PREFLIGHT_RATIO_MILLI": "1000",
        "PREFLIGHT_TIMEOUT": "5",
    }
    return fake


def failures(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [x for x in done.stderr.splitlines() if x.startswith("preflight FAILED: ")]


def test_healthy_host_passes(host: Host) -> None:
    done = host.run()
    assert done.returncode == 0, done.stderr
    assert "preflight: all checks passed" in done.stdout
    assert "preflight ok: engine: 'docker info' answered" in done.stdout
    assert "fleet requests 8.00 GiB and 2.00 CPUs; host has 16.00 GiB and 4.00 CPUs" in done.stdout
    assert failures(done) == []
    assert host.run().stdout == done.stdout  # asks questions only: same answer twice


def test_engine_that_does_not_answer_stops_the_deployment(host: Host) -> None:
    host.tool(
        "docker",
        "echo 'Cannot connect to the Docker daemon at unix:///run/docker.sock' >&2; exit 1",
    )
    done = host.run()
    assert done.returncode == 1
    [line] = failures(done)
    assert "'docker info' failed (exit 1): Cannot connect to the Docker daemon" in line
    assert "systemctl start docker" in line
    assert "1 check(s) failed" in done.stderr


def test_missing_engine_and_hanging_engine(host: Host) -> None:
    done = host.run(PREFLIGHT_ENGINE="podman")
    assert done.returncode == 1
    assert "'podman' is not installed or not on PATH" in failures(done)[0]
    host.tool("podman", "sleep 30")
    done = host.run(PREFLIGHT_ENGINE="podman", PREFLIGHT_TIMEOUT="1")
    assert "'podman info' failed (exit 124)" in failures(done)[0]
    host.tool("podman", "exit 0")
    assert host.run(PREFLIGHT_ENGINE="podman").returncode == 0


def test_fleet_that_fits_exactly_passes(host: Host) -> None:
    done = host.run(
        PREFLIGHT_REQUESTED_MEMORY_BYTES=str(16 * GIB), PREFLIGHT_REQUESTED_MILLICPUS="4000"
    )
    assert done.returncode == 0, done.stderr


def test_overcommitted_fleet_is_refused_with_the_same_words_as_capacity_py(host: Host) -> None:
    done = host.run(
        PREFLIGHT_REQUESTED_MEMORY_BYTES=str(20 * GIB + 1),
        PREFLIGHT_REQUESTED_MILLICPUS="6500",
        PREFLIGHT_RATIO_MILLI="1250",
    )
    assert done.returncode == 1
    with pytest.raises(CapacityError) as caught:
        check_capacity(16 * GIB, 4, 20 * GIB + 1, 6.5, 1.25)
    expected = str(caught.value).splitlines()
    assert [x.removeprefix("preflight FAILED: ") for x in failures(done)] == expected[:2]
    assert expected[2] in done.stderr.splitlines()  # the advice line
    assert "over-commit ratio 1.250 allows at most 20.00 GiB" in expected[0]


def test_cpus_have_their_own_ratio_in_script_and_python_alike(host: Host) -> None:
    """Memory held to 1.0 while CPUs (caps, not reservations) may go to 4x the cores."""
    fits = host.run(
        PREFLIGHT_REQUESTED_MEMORY_BYTES=str(8 * GIB),
        PREFLIGHT_REQUESTED_MILLICPUS="16000",
        PREFLIGHT_CPU_RATIO_MILLI="4000",
    )
    assert fits.returncode == 0, fits.stderr
    check_capacity(16 * GIB, 4, 8 * GIB, 16.0, 1.0, 4.0)  # the same verdict in Python
    over = host.run(
        PREFLIGHT_REQUESTED_MEMORY_BYTES=str(8 * GIB),
        PREFLIGHT_REQUESTED_MILLICPUS="16001",
        PREFLIGHT_CPU_RATIO_MILLI="4000",
    )
    assert over.returncode == 1
    with pytest.raises(CapacityError) as caught:
        check_capacity(16 * GIB, 4, 8 * GIB, 16.001, 1.0, 4.0)
    expected = str(caught.value).splitlines()
    assert [x.removeprefix("preflight FAILED: ") for x in failures(over)] == expected[:1]
    assert "cpu: the fleet requests 16.00 CPUs" in expected[0]
    assert "over-commit ratio 4.000 allows at most 16.00 CPUs" in expected[0]


def test_every_failure_is_reported_in_one_run(host: Host) -> None:
    host.tool("docker", "exit 3")
    done = host.run(PREFLIGHT_REQUESTED_MILLICPUS="4001")
    assert [x.split(":")[1].strip() for x in failures(done)] == ["engine", "cpu"]
    assert "2 check(s) failed" in done.stderr


def test_tailnet_address_must_match(host: Host) -> None:
    host.tool("tailscale", 'echo "100.101.102.103"')
    assert host.run(PREFLIGHT_EXPECTED_ADDRESS="100.101.102.103").returncode == 0
    done = host.run(PREFLIGHT_EXPECTED_ADDRESS="100.64.0.7")
    [line] = failures(done)
    assert (
        "binds published ports to 100.64.0.7 but this host's tailnet IPv4 is '100.101.102.103'"
        in line
    )
    host.tool("tailscale", "echo 'Tailscale is stopped.' >&2; exit 1")
    [line] = failures(host.run(PREFLIGHT_EXPECTED_ADDRESS="100.64.0.7"))
    assert "'tailscale ip -4' failed: Tailscale is stopped." in line and "sudo tailscale up" in line
    (host.bin / "tailscale").unlink()
    [line] = failures(host.run(PREFLIGHT_EXPECTED_ADDRESS="100.64.0.7"))
    assert "the tailscale CLI is not installed" in line


@pytest.fixture
def daytona_url() -> Iterator[str]:
    class Ok(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/health"
    server.shutdown()
    server.server_close()


def test_daytona_server_must_answer_when_enabled(host: Host, daytona_url: str) -> None:
    if shutil.which("curl") is None:
        pytest.fail("curl is needed for this test (apt-get install curl)")
    assert host.run(PREFLIGHT_DAYTONA_URL=daytona_url).returncode == 0
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/api/health"
    [line] = failures(host.run(PREFLIGHT_DAYTONA_URL=closed))
    assert f"daytona: {closed} did not answer (exit 7)" in line


def test_bad_inputs_are_a_usage_error(host: Host) -> None:
    done = host.run(PREFLIGHT_REQUESTED_MEMORY_BYTES="8Gi")
    assert done.returncode == 2
    assert "PREFLIGHT_REQUESTED_MEMORY_BYTES must be a non-negative integer" in done.stderr
    assert host.run(PREFLIGHT_ENGINE="lxc").returncode == 2


def test_unreadable_meminfo_is_a_failure_not_a_pass(host: Host) -> None:
    [line] = failures(host.run(PREFLIGHT_MEMINFO="/nonexistent/meminfo"))
    assert "could not read MemTotal from /nonexistent/meminfo" in line


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    mem_kb=st.integers(min_value=1, max_value=2**31),
    cpus=st.integers(min_value=1, max_value=256),
    requested=st.integers(min_value=0, max_value=2**42),
    requested_milli=st.integers(min_value=0, max_value=300_000),
    ratio_milli=st.integers(min_value=1, max_value=16_000),
)
def test_script_and_capacity_py_agree(
    host: Host, mem_kb: int, cpus: int, requested: int, requested_milli: int, ratio_milli: int
) -> None:
    host.tool("nproc", f"echo {cpus}")
    host.meminfo(mem_kb)
    done = host.run(
        PREFLIGHT_REQUESTED_MEMORY_BYTES=str(requested),
        PREFLIGHT_REQUESTED_MILLICPUS=str(requested_milli),
        PREFLIGHT_RATIO_MILLI=str(ratio_milli),
    )
    try:
        check_capacity(mem_kb * 1024, cpus, requested, requested_milli / 1000, ratio_milli / 1000)
    except CapacityError as exc:
        assert done.returncode == 1
        lines = str(exc).splitlines()
        assert [x.removeprefix("preflight FAILED: ") for x in failures(done)] == lines[:-1]
    else:
        assert done.returncode == 0, done.stderr
