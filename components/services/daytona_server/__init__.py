"""Daytona's open-source server on the fleet's host (docs/daytona.md, "Run your own server")."""

from __future__ import annotations

from collections.abc import Callable

import pulumi

from ...host.on_host import OnHost
from ...outputs import ServiceOutputs
from ...settings import DAYTONA_SERVER_SECRET_KEY, StackSettings
from .server import DaytonaServer, DaytonaServerArgs
from .service import requested

__all__ = ["DaytonaServer", "DaytonaServerArgs", "daytona_server", "requested"]


def daytona_server(
    on: OnHost,
    s: StackSettings,
    secret: Callable[[str], pulumi.Output[str] | None],
    outputs: ServiceOutputs,
) -> DaytonaServer:
    """Builds it, and puts its stack output `daytonaServer` in `outputs`."""
    key = secret(DAYTONA_SERVER_SECRET_KEY)
    assert key is not None, "Fleet's problems() stop a stack without it"
    server = DaytonaServer(
        f"{on.name}-daytona-server",
        DaytonaServerArgs(settings=s.daytona_server, on=on, secret=key),
        on.child,
    )
    outputs["daytonaServer"] = server.outputs
    return server
