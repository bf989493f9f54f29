"""SshTarget: the one way the fleet reaches a remote host, the local `ssh` client with the
stack's options and its pinned host key.

The Docker provider dials `ssh://` with these options (`ssh_opts`), and every command run on the
host (the preflight, the tailnet address discovery, each container's pids limit) is the same ssh
command line, so a `-i KEYFILE` or a jump host in `hostSshOpts` works for all of them, and none
of them trusts a host key other than `hostSshHostKey`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from ..settings import HostSettings, HostVariant, SshAddress


def pin_options(host_key: str) -> list[str]:
    """Accept exactly `host_key`: no known_hosts file is read or written, and the only key ssh
    knows is the one KnownHostsCommand prints (for any host name: it is this host's). They come
    before the user's options because ssh keeps the first value it is given for each."""
    return [
        "-o", "StrictHostKeyChecking=yes",
        "-o", "UserKnownHostsFile=/dev/null",
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", f"KnownHostsCommand=/bin/echo * {host_key}",
    ]  # fmt: skip


@dataclass(frozen=True)
class SshTarget:
    address: SshAddress
    user_options: tuple[str, ...]  # hostSshOpts, e.g. -i KEYFILE
    host_key: str  # hostSshHostKey: `ssh-ed25519 AAAA...`

    @classmethod
    def of(cls, s: HostSettings) -> SshTarget | None:
        """The ssh variant's host (its settings are checked when read); None for the others."""
        if s.variant is not HostVariant.SSH:
            return None
        return cls(s.ssh_address, s.sshOpts, s.sshHostKey)

    @property
    def options(self) -> list[str]:
        """What the Docker provider takes as `ssh_opts` and every command passes to ssh."""
        if not self.host_key:  # the settings require it; this keeps any other caller honest
            raise ValueError(
                "the SSH connection to the host has no pinned host key, so any server could "
                "answer; pin it (ssh-keyscan -t ed25519 HOST | cut -d' ' -f2-)"
            )
        return [*pin_options(self.host_key), *self.user_options]

    def prefix(self) -> str:
        """`ssh OPTIONS -l USER -p PORT -- HOST`, shell-quoted: the words docker's ssh helper
        uses to dial the engine, so a command reaches the host the way the provider does."""
        words = ["ssh", *self.options]
        if self.address.user:
            words += ["-l", self.address.user]
        if self.address.port:
            words += ["-p", str(self.address.port)]
        return shlex.join([*words, "--", self.address.host])

    def command_line(self, remote: str) -> str:
        """A local shell command that runs `remote` (shell text) on the host."""
        return f"{self.prefix()} {shlex.quote(remote)}"
