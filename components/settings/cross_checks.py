"""Rules across settings groups, checked once every group has loaded: two settings that publish
on one host port, and a Daytona server asked of a stack without a container host."""

from __future__ import annotations

from collections.abc import Mapping

from .group import PROJECT
from .host import HostVariant


def server_without_host(server: bool, variant: HostVariant) -> list[str]:
    """Daytona's own server runs on the stack's host: a cloud-only stack has none."""
    if server and variant is HostVariant.NONE:
        return [
            f"{PROJECT}:daytonaServer: true needs a container host, but "
            f"{PROJECT}:hostVariant is none; run the server from a stack with a host, or "
            f"point {PROJECT}:daytonaUrl at one"
        ]
    return []


def port_clashes(host_ports: Mapping[str, int]) -> list[str]:
    """Two settings (config key -> host port) that publish on the same host port: Docker would
    refuse the second."""
    first: dict[int, str] = {}
    found = []
    for key, port in host_ports.items():
        if port in first:
            found.append(f"{key}: host port {port} is also {first[port]}; give each its own port")
        first.setdefault(port, key)
    return found
