"""The fixture fleet on a real engine: health, inputs as recorded, DNS, git, SSH, isolation."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import ssh_keypair
from tests.integration.fleet import PREFIX, SPEC_SECRETS, Fleet, exec_in, health
from tests.support.git_daemon import wait_for

pytestmark = pytest.mark.docker

MIB = 1024 * 1024
FIXTURE_SANDBOXES = ("hl-existing", "hl-new", "hl-gone", "vis")


def sandboxes(fleet: Fleet) -> list[str]:
    """The fixture's sandboxes still in the fleet (test_reapply removes one)."""
    return [n for n in FIXTURE_SANDBOXES if n not in fleet.removed]


def ssh(fleet: Fleet, sandbox: str, command: str, key: Path | None = None) -> tuple[int, str]:
    port = fleet.sandboxes[sandbox]["ports"]["2222"]
    done = subprocess.run(
        ["ssh", "-i", str(key or fleet.key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", "-p", str(port),
         "dev@127.0.0.1", command],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return done.returncode, (done.stdout + done.stderr).strip()


def test_every_container_is_healthy_with_the_recorded_settings(fleet: Fleet) -> None:
    names = {f"{PREFIX}{n}" for n in (*sandboxes(fleet), "model-server", "supervisor")}
    names |= {  # each repository's mirror keeper
        r.inputs["name"]
        for r in fleet.run.of_type("docker:index/container:Container")
        if r.name.endswith("-keeper")
    }
    assert set(fleet.containers()) == names
    assert {n: health(fleet.client, n) for n in names} == dict.fromkeys(names, "healthy")
    for r in fleet.run.of_type("docker:index/container:Container"):
        if r.inputs.get("attach"):  # the keys writer: test_fleet_keys_*
            continue
        host = fleet.client.api.inspect_container(r.inputs["name"])["HostConfig"]
        seen = (host["Memory"], host["MemorySwap"], host["CapDrop"], host["SecurityOpt"])
        wanted = (r.inputs["memory"] * MIB, r.inputs["memorySwap"] * MIB, ["ALL"],
                  ["no-new-privileges:true"])  # fmt: skip
        assert seen == wanted, r.urn
        assert host["RestartPolicy"]["Name"] == "unless-stopped", r.urn
        cpu = (host["NanoCpus"], host["CpuQuota"], host["CpuPeriod"])
        assert cpu == (
            round(float(r.inputs.get("cpus", 0)) * 1e9),
            r.inputs.get("cpuQuota", 0),
            r.inputs.get("cpuPeriod", 0),
        ), r.urn
    for name in sandboxes(fleet):  # the pids-limit command ran against the real container
        assert (
            fleet.client.api.inspect_container(f"{PREFIX}{name}")["HostConfig"]["PidsLimit"] == 256
        )


def test_model_server_resolves_on_ai_net(fleet: Fleet) -> None:
    net = fleet.client.api.inspect_container(f"{PREFIX}model-server")["NetworkSettings"]
    address = net["Networks"][f"{PREFIX}ai-net"]["IPAddress"]
    code, out = exec_in(
        fleet.client, f"{PREFIX}supervisor",
        "python3", "-c", "import socket; print(socket.gethostbyname('model-server'))",
    )  # fmt: skip
    assert (code, out) == (0, address)
    code, out = exec_in(fleet.client, f"{PREFIX}hl-existing", "getent", "hosts", "model-server")
    assert code == 0 and out.split()[0] == address, out


def test_headless_sandbox_has_the_existing_branch_checked_out(fleet: Fleet) -> None:
    script = "cd /workspace && git rev-parse --abbrev-ref HEAD @{u} && git rev-parse HEAD"
    code, out = ssh(fleet, "hl-existing", script)
    assert code == 0, out
    assert out.split() == ["feature-a", "origin/feature-a", fleet.git.heads["feature-a"]]
    code, out = ssh(fleet, "hl-existing", "git -C /workspace remote get-url origin")
    assert (code, out) == (0, fleet.git.url)


def test_headless_sandbox_creates_a_new_branch_from_base(fleet: Fleet) -> None:
    script = "cd /workspace && git branch --show-current && git rev-parse HEAD && git status -sb"
    code, out = ssh(fleet, "hl-new", script)
    assert code == 0, out
    branch, commit, status = out.splitlines()
    assert (branch, commit) == ("agent/new-work", fleet.git.heads["main"])
    assert status == "## agent/new-work", "a new branch has no upstream until its first push"


def host_addresses() -> set[str]:
    """Every IPv4 address of this host except loopback (the kernel's local routes; no `ip`)."""
    trie = Path("/proc/net/fib_trie").read_text()
    found = re.findall(r"\|-- (\d+\.\d+\.\d+\.\d+)\n\s+/32 host LOCAL", trie)
    return {a for a in found if not a.startswith("127.")}


def test_ssh_works_with_the_stacks_key_on_the_bind_address_only(fleet: Fleet) -> None:
    for name in sandboxes(fleet):
        ports = fleet.client.api.inspect_container(f"{PREFIX}{name}")["NetworkSettings"]["Ports"]
        bound = {p: [(b["HostIp"], int(b["HostPort"])) for b in v or []] for p, v in ports.items()}
        published = {
            f"{c}/tcp": [("127.0.0.1", h)] for c, h in fleet.sandboxes[name]["ports"].items()
        }
        assert bound == published, name
    assert ssh(fleet, "hl-existing", "id -un") == (0, "dev")
    stranger = ssh_keypair(fleet.workdir, "id_stranger")
    code, out = ssh(fleet, "hl-existing", "true", key=stranger)
    assert code == 255 and "Permission denied" in out, out
    port = fleet.sandboxes["hl-existing"]["ports"]["2222"]
    others = host_addresses()
    assert others, "no non-loopback address to try"
    for address in others:
        with pytest.raises(OSError), socket.create_connection((address, port), timeout=3):
            pass


def test_sandbox_sees_no_docker_socket_and_runs_as_non_root(fleet: Fleet) -> None:
    name = f"{PREFIX}hl-existing"
    code, out = exec_in(fleet.client, name, "sh", "-c", "ls /var/run/docker.sock /run/docker.sock")
    assert code != 0, out
    mounts = fleet.client.api.inspect_container(name)["Mounts"]
    seen = sorted((m["Type"], m["Destination"], m["RW"]) for m in mounts)
    assert seen == [("volume", "/etc/ssh/fleet-keys", False), ("volume", "/memory", True),
                    ("volume", "/mirror", False), ("volume", "/workspace", True)]  # fmt: skip
    assert not any(
        "DOCKER_HOST" in e for e in fleet.client.api.inspect_container(name)["Config"]["Env"]
    )
    code, status = exec_in(fleet.client, name, "cat", "/proc/1/status")
    fields = dict(line.split(":", 1) for line in status.splitlines())
    assert fields["Uid"].split() == ["1000"] * 4 and fields["Gid"].split() == ["1000"] * 4
    assert int(fields["CapEff"], 16) == 0 and int(fields["CapBnd"], 16) == 0
    assert fields["NoNewPrivs"].strip() == "1"
    assert exec_in(fleet.client, name, "id", "-u") == (0, "1000")


def oom_kills(fleet: Fleet, name: str) -> int:
    """The container's memory cgroup OOM-kill counter (cgroup v1 or v2), read from inside."""
    code, out = exec_in(
        fleet.client, name, "sh", "-c",
        "cat /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null "
        "|| cat /sys/fs/cgroup/memory.events",
    )  # fmt: skip
    match = re.search(r"^oom_kill (\d+)$", out, re.M)
    assert code == 0 and match, out
    return int(match.group(1))


def test_sandbox_process_over_its_memory_limit_is_killed(fleet: Fleet) -> None:
    name = f"{PREFIX}hl-existing"
    limit = fleet.client.api.inspect_container(name)["HostConfig"]["Memory"]
    assert limit == 128 * MIB
    before = oom_kills(fleet, name)
    # Touches 4x the limit; no swap (memory_swap == memory), so the kernel must kill it.
    code, out = exec_in(fleet.client, name, "perl", "-e", f'$x = "a" x {4 * limit}; print "alive"')
    assert code == 137 and "alive" not in out, (code, out)
    assert oom_kills(fleet, name) > before
    # Only the offending process died: the sandbox itself keeps running and recovers.
    assert fleet.client.containers.get(name).status == "running"
    wait_for(lambda: health(fleet.client, name) == "healthy", "healthy after the OOM kill", 60)


def test_fleet_keys_are_written_once_and_read_only_in_every_sandbox(fleet: Fleet) -> None:
    state = fleet.client.api.inspect_container(f"{PREFIX}ssh-keys")["State"]
    assert (state["Status"], state["ExitCode"]) == ("exited", 0), state
    pub = fleet.key.with_suffix(".pub").read_text().split()[1]
    for name in sandboxes(fleet):
        code, out = exec_in(
            fleet.client, f"{PREFIX}{name}", "cat", "/etc/ssh/fleet-keys/authorized_keys"
        )
        assert code == 0 and pub in out, (name, out)
    code, out = ssh(fleet, "hl-existing", "echo x >>/etc/ssh/fleet-keys/authorized_keys")
    assert code != 0 and "Read-only file system" in out, out
    # Nor can the agent let someone in through its own ~/.ssh: only the fleet's file counts.
    backdoor = ssh_keypair(fleet.workdir, "id_backdoor")
    planted = backdoor.with_suffix(".pub").read_text().strip()
    assert ssh(fleet, "hl-existing", f"echo '{planted}' >>~/.ssh/authorized_keys")[0] == 0
    code, out = ssh(fleet, "hl-existing", "true", key=backdoor)
    assert code == 255 and "Permission denied" in out, out


def test_an_ssh_session_gets_the_entrys_env_and_secrets_whole(fleet: Fleet) -> None:
    """Values are handed over shell-quoted: a line break in one adds no variable, in a command
    (BASH_ENV) or a login shell (/etc/profile.d) alike."""
    show = 'printf "%s|" "$SMUGGLED" "${LD_PRELOAD-unset}" "$FIXTURE_TOKEN" "${BASH_ENV-unset}"'
    wanted = f"one\nLD_PRELOAD=/tmp/evil.so|unset|{SPEC_SECRETS['FIXTURE_TOKEN']}|unset|"
    assert ssh(fleet, "hl-new", show) == (0, wanted)
    assert ssh(fleet, "hl-new", f"env -i HOME=/home/dev bash -lc '{show}'") == (0, wanted)
    code, out = ssh(fleet, "hl-existing", 'printf "%s" "${FIXTURE_TOKEN-unset}"')
    assert (code, out) == (0, "unset"), "a secret reaches only the entry that names it"


def test_a_sandbox_cannot_post_or_read_tasks_without_the_token(fleet: Fleet) -> None:
    """ai-net reaches the supervisor from every sandbox; reachability grants nothing."""
    ask = r"""
        body='{"sandbox": "hl-new", "prompt": "take over"}'
        exec 3<>/dev/tcp/supervisor/8000
        printf '%s\r\n' "$1 /tasks HTTP/1.0" 'Host: supervisor' \
          'Content-Type: application/json' "Content-Length: ${#body}" '' >&3
        printf '%s' "$body" >&3
        IFS= read -r status <&3 && printf '%s' "$status"
    """
    for method in ("POST", "GET"):
        code, out = exec_in(fleet.client, f"{PREFIX}hl-new", "bash", "-c", ask, "ask", method)
        assert code == 0 and out.startswith("HTTP/1.") and " 401 " in out, (method, out)
