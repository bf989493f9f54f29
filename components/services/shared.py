"""The host's shared services, built once per host stack: the model server (when the stack runs
one), the bus (on the headquarters of a fleet on several hosts) and the supervisor, with the
credentials each one asks for."""

from __future__ import annotations

from collections.abc import Callable

import pulumi

from ..contract import BUS, MODEL_SERVER, SUPERVISOR
from ..factory import Factory
from ..host.on_host import OnHost
from ..host.ssh_identity import supervisor_private_key
from ..outputs import ServiceOutputs
from ..settings import (
    BUS_SECRET_KEY,
    MODEL_SERVER_API_KEY_KEY,
    SSH_SECRET_KEY,
    SUPERVISOR_API_TOKEN_KEY,
    SUPERVISOR_MODEL_KEY,
    StackSettings,
)
from ..spec import Role
from .bus import Bus, BusArgs, BusLink, bus_password, member_url
from .model_server import ModelServer, ModelServerArgs
from .supervisor import FleetKeysMount, Supervisor, SupervisorArgs

Secret = Callable[[str], pulumi.Output[str] | None]


def shared_services(
    on: OnHost,
    s: StackSettings,
    secret: Secret,
    keys: FleetKeysMount | None,
    outputs: ServiceOutputs,
    factory: Factory,
) -> None:
    """Builds them, and puts their stack outputs in `outputs`."""
    model_server, model_key = _model_server(on, s, secret, outputs)
    bus, link = _bus(on, s, secret, factory)
    supervisor = Supervisor(
        f"{on.name}-supervisor",
        SupervisorArgs(
            settings=s.supervisor,
            image_id=on.image(SUPERVISOR, on.child),
            logs_volume=on.storage.logs,
            workspace_volume=on.storage.workspace,
            place=on.place(SUPERVISOR),
            model_server=model_server.container if model_server else None,
            api_token=_required(secret(SUPERVISOR_API_TOKEN_KEY)),
            # An external endpoint has a key of its own (optional); the fleet's server, its key.
            model_api_key=secret(SUPERVISOR_MODEL_KEY) if s.supervisor.modelUrl else model_key,
            ssh_key=supervisor_private_key(_required(secret(SSH_SECRET_KEY))),
            keys=keys,
            git_author_suffix=s.top.gitAuthorSuffix,
            factory=factory,
            bus=link,
            bus_container=bus.container if bus else None,
        ),
        on.child,
    )
    outputs[SUPERVISOR] = {"apiUrl": supervisor.api_url, "apiToken": supervisor.api_token}


def _bus(
    on: OnHost, s: StackSettings, secret: Secret, factory: Factory
) -> tuple[Bus | None, BusLink | None]:
    """Headquarters runs the bus; a member reaches it at busAddress; a single host has none."""
    if factory.role is Role.SINGLE:
        return None, None
    password = bus_password(_required(secret(BUS_SECRET_KEY)))
    if factory.role is Role.MEMBER:
        return None, BusLink(member_url(s.bus), password)
    args = BusArgs(
        settings=s.bus, image_id=on.image(BUS, on.child), place=on.place(BUS), password=password
    )
    bus = Bus(f"{on.name}-bus", args, on.child)
    return bus, bus.link


def _model_server(
    on: OnHost, s: StackSettings, secret: Secret, outputs: ServiceOutputs
) -> tuple[ModelServer | None, pulumi.Output[str] | None]:
    """The model server and its key, when the stack runs one."""
    if not s.model_server.enabled:
        return None, None
    key = _required(secret(MODEL_SERVER_API_KEY_KEY))
    image = (
        on.image(MODEL_SERVER, on.child)
        if s.model_server.build
        else on.pull(MODEL_SERVER, s.model_server.image, on.child)
    )
    server = ModelServer(
        f"{on.name}-model-server",
        ModelServerArgs(
            settings=s.model_server,
            image_id=image,
            model_volume=on.storage.model_data,
            place=on.place(MODEL_SERVER),
            api_key=key,
        ),
        on.child,
    )
    outputs["modelServer"] = {
        "internalUrl": server.internal_url,
        "externalUrl": server.external_url,
        "apiKey": pulumi.Output.secret(key),
    }
    return server, key


def _required(value: pulumi.Output[str] | None) -> pulumi.Output[str]:
    assert value is not None, "Fleet's problems() stop a stack without it"
    return value
