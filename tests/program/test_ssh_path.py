"""One SSH path to a remote host (#12 C): the Docker provider (`ssh_opts`), the host preflight,
every container's pids-limit command and every wait for a container to be ready reach the ssh
variant's host with the same ssh options, the same key (`-i KEYFILE` in hostSshOpts) and the
same pinned host key (hostSshHostKey)."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.support.pulumi_harness import Registered, Run

from .conftest import ROOT, RunSpec, fleet_spec

SSH_STACK = ROOT / "stacks" / "ssh-tailnet.yaml"
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
KEYFILE = "/home/fleet-admin/.ssh/fleet_ed25519"
OPTS = ["-i", KEYFILE, "-o", "BatchMode=yes", "-o", "ConnectTimeout=20"]


def provider_options(run: Run) -> list[str]:
    """The Docker provider's ssh_opts (provider inputs travel as JSON text)."""
    [provider] = run.of_type("pulumi:providers:docker")
    options = provider.inputs["sshOpts"]
    return list(json.loads(options) if isinstance(options, str) else options)


def ssh_argv(command: Registered) -> list[str]:
    """The ssh command line a command resource runs (the shell's words)."""
    words = shlex.split(command.inputs["create"])
    assert words[0] == "ssh", f"{command.urn}: {command.inputs['create']}"
    return words


def options_and_target(argv: list[str]) -> tuple[list[str], list[str]]:
    """ssh's options, and what follows them (-l USER [-p PORT] -- HOST COMMAND)."""
    at = argv.index("-l")
    return argv[1:at], argv[at:]


def ssh_run(run_spec: RunSpec, opts: list[str] = OPTS) -> Run:
    run = run_spec(fleet_spec(2), SSH_STACK, hostSshOpts=opts, hostSshHostKey=HOST_KEY)
    assert run.error is None, run.error
    return run


def test_provider_preflight_and_pids_limits_take_the_same_ssh_options(run_spec: RunSpec) -> None:
    run = ssh_run(run_spec)
    [provider] = run.of_type("pulumi:providers:docker")
    assert provider.inputs["host"] == "ssh://fleet@fleet-host"
    options = provider_options(run)
    commands = [run.by_name("fleet-host-preflight-check")] + [
        r for r in run.of_type("command:local:Command") if "--pids-limit" in r.inputs["create"]
    ]
    # the preflight, 2 sandboxes, 2 services, their repository's mirror keeper
    assert len(commands) == 1 + 2 + 2 + 1, [c.name for c in commands]
    for command in commands:
        used, target = options_and_target(ssh_argv(command))
        assert used == options, f"{command.urn}: {used} != the provider's {options}"
        # As docker's ssh helper dials it: -l USER [-p PORT] -- HOST COMMAND
        assert target[:4] == ["-l", "fleet", "--", "fleet-host"], command.urn
    [wait] = run.of_type("pulumi-python:dynamic/fleet:Readiness")
    assert len(wait.inputs["watched"]) == 2 + 1, "2 sandboxes, their repository's mirror"
    used, target = options_and_target(wait.inputs["cli"])
    assert used == options, f"{wait.urn}: {used} != the provider's {options}"
    assert target == ["-l", "fleet", "--", "fleet-host", "docker"], wait.urn
    assert not run.of_type("command:remote:Command"), "a second SSH client (pulumi-command's)"


def test_the_key_and_the_pinned_host_key_are_in_the_one_option_list(run_spec: RunSpec) -> None:
    options = provider_options(ssh_run(run_spec))
    assert options[options.index("-i") + 1] == KEYFILE
    pins = [options[i + 1] for i, word in enumerate(options) if word == "-o"]
    assert "StrictHostKeyChecking=yes" in pins
    assert f"KnownHostsCommand=/bin/echo * {HOST_KEY}" in pins
    assert {"UserKnownHostsFile=/dev/null", "GlobalKnownHostsFile=/dev/null"} <= set(pins)
    # ssh takes the first value it is given for an option: the pins come before the user's.
    assert options.index("StrictHostKeyChecking=yes") < options.index(KEYFILE)


def test_the_remote_commands_run_what_they_ran_locally(run_spec: RunSpec) -> None:
    run = ssh_run(run_spec)
    check = run.by_name("fleet-host-preflight-check")
    remote = ssh_argv(check)[-1]
    assert remote.startswith("env PREFLIGHT_CPU_RATIO_MILLI=4000 ") and remote.endswith(
        " /bin/sh -s"
    )
    assert "PREFLIGHT_EXPECTED_ADDRESS=100.64.0.20" in remote
    assert check.inputs["stdin"].startswith("#!/bin/sh")
    pids = run.by_name("fleet-box-000-pids-limit")
    assert ssh_argv(pids)[-3:] == [
        "fleet-host",
        "docker update --pids-limit 512 $CONTAINER",
        ">/dev/null",
    ]
    assert pids.inputs["environment"] == {"CONTAINER": "fleet-box-000-container-id"}


def test_ssh_itself_reads_the_options_as_meant(run_spec: RunSpec, tmp_path: Path) -> None:
    """`ssh -G` prints the configuration ssh would use, without connecting."""
    key = tmp_path / "fleet_ed25519"
    key.write_text("not read by ssh -G\n")
    run = ssh_run(run_spec, ["-i", str(key), "-o", "ConnectTimeout=20"])
    options = provider_options(run)
    shown = subprocess.run(
        ["ssh", "-G", *options, "-l", "fleet", "-p", "2222", "--", "fleet-host"],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout.splitlines()  # fmt: skip
    assert f"identityfile {key}" in shown
    assert "stricthostkeychecking true" in shown
    assert f"knownhostscommand /bin/echo * {HOST_KEY}" in shown
    assert {"userknownhostsfile /dev/null", "globalknownhostsfile /dev/null"} <= set(shown)


@pytest.mark.parametrize(
    "opts",
    [
        ["-o", "StrictHostKeyChecking=no"],
        ["-oUserKnownHostsFile=/home/me/.ssh/known_hosts"],
        ["-o", "knownhostscommand /bin/true"],
        ["-o", "GlobalKnownHostsFile /etc/ssh/ssh_known_hosts"],
    ],
)
def test_options_that_would_unpin_the_host_key_are_refused(
    run_spec: RunSpec, opts: list[str]
) -> None:
    run = run_spec(fleet_spec(1), SSH_STACK, hostSshOpts=opts)
    assert run.error is not None and run.resources == []
    assert "Pulumi.dev.yaml: sandbox-fleet:hostSshOpts: " in str(run.error)
    assert "sandbox-fleet:hostSshHostKey" in str(run.error)
