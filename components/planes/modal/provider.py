"""Modal plane resources: a named Volume for the workspace, and a Sandbox that mounts it.

Two Pulumi dynamic providers over the `modal` client library (its gRPC API). As on the Docker
plane, compute and data are separate resources: replacing or losing a sandbox (Modal sandboxes
end at their `timeout`, 24 h at most) never touches the workspace volume, and removing an entry
deletes the volume only with `data: discard`.

Rules for dynamic providers (see ../daytona/provider.py): no client is kept in the pickled
provider; each method connects with the resource's own credentials; `diff` is written out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from ...contract import WORKSPACE_PATH
from ..cloud import env_with_secrets
from ..workspace_sync import sync_script

WORKSPACE = WORKSPACE_PATH
BOOT = 'mkdir -p /run/sandbox && bash -c "$1" sandbox-sync & exec sleep infinity'


def boot_command() -> list[str]:
    """The sandbox's command (it runs as root): the workspace sync in the background, then
    stay up."""
    return ["bash", "-c", BOOT, "boot", sync_script()]


# Modal sandboxes cannot change after create, except their tags.
SANDBOX_REPLACE_ON = (
    "app_name", "name", "image", "command", "cpu", "memory_mib", "timeout_seconds",
    "idle_timeout_seconds", "env", "volume",
)  # fmt: skip
SANDBOX_IN_PLACE = ("tags", "token_id", "token_secret")


class ModalError(Exception):
    """A Modal call failed; the message says which call, on what, and Modal's answer."""


@contextmanager
def _client(props: Mapping[str, Any], what: str) -> Iterator[Any]:
    """A client with this resource's own credentials (never the process's ~/.modal.toml);
    a Modal error in the block names `what` was being done, on which object."""
    import modal
    from modal.exception import Error

    try:
        client = modal.Client.from_credentials(props["token_id"], props["token_secret"])
        yield client
    except Error as e:
        raise ModalError(f"Modal {what}: {type(e).__name__}: {e}") from e


def _image(ref: str) -> Any:
    import modal

    if ref:
        return modal.Image.from_registry(ref)
    return modal.Image.debian_slim().apt_install("git", "openssh-client")  # what agents need


class ModalVolumeProvider(dynamic.ResourceProvider):
    """A named Modal Volume: created if missing, deleted only when `keep` is false."""

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        import modal

        with _client(props, f"create volume {props['name']}") as client:
            volume = modal.Volume.from_name(props["name"], create_if_missing=True, client=client)
            volume.hydrate()
        return dynamic.CreateResult(id_=props["name"], outs=dict(props))

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        changed = [
            k for k in ("name", "keep", "token_id", "token_secret") if olds.get(k) != news.get(k)
        ]
        return dynamic.DiffResult(
            changes=bool(changed), replaces=["name"] if "name" in changed else []
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(outs=dict(news))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        import modal
        from modal.exception import NotFoundError

        with _client(props, f"read volume {id_}") as client:
            try:
                modal.Volume.from_name(id_, client=client).hydrate()
            except NotFoundError:
                return dynamic.ReadResult(id_="", outs={})
        return dynamic.ReadResult(id_=id_, outs=dict(props))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        import modal

        if props.get("keep", True):
            return  # data outlives compute: the workspace stays in the Modal workspace
        with _client(props, f"delete volume {id_}") as client:
            modal.Volume.objects.delete(id_, allow_missing=True, client=client)


class ModalSandboxProvider(dynamic.ResourceProvider):
    """A named, long-running Modal Sandbox with the workspace volume at /workspace, which its
    boot command (`boot_command()`) fills from the entry's repository."""

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        import modal

        with _client(props, f"create sandbox {props['name']}") as client:
            app = modal.App.lookup(props["app_name"], create_if_missing=True, client=client)
            volume = modal.Volume.from_name(props["volume"], client=client)
            cpu, mib = float(props["cpu"]), int(props["memory_mib"])
            sandbox = modal.Sandbox.create(
                *props["command"],  # stays up until terminated or its timeout
                app=app,
                name=props["name"],
                tags=dict(props["tags"]),
                image=_image(props["image"]),
                env=dict(props["env"]),
                volumes={WORKSPACE: volume},
                workdir=WORKSPACE,
                cpu=(cpu, cpu),  # request = limit: a hard cap, as on the host
                memory=(mib, mib),
                timeout=int(props["timeout_seconds"]),
                idle_timeout=int(props["idle_timeout_seconds"]) or None,
                client=client,
            )  # fmt: skip
            return dynamic.CreateResult(
                id_=sandbox.object_id, outs={**props, "sandbox_id": sandbox.object_id}
            )

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        import modal
        from modal.exception import NotFoundError

        with _client(props, f"read sandbox {id_}") as client:
            try:
                sandbox = modal.Sandbox.from_id(id_, client=client)
                ended = sandbox.poll()
                tags = sandbox.get_tags() if ended is None else {}
            except NotFoundError:
                return dynamic.ReadResult(id_="", outs={})
        if ended is not None:  # reached its timeout or was stopped: the next up starts a new one
            return dynamic.ReadResult(id_="", outs={})
        return dynamic.ReadResult(id_=id_, outs={**props, "tags": dict(tags)})

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        keys = (*SANDBOX_REPLACE_ON, *SANDBOX_IN_PLACE)
        changed = [k for k in keys if olds.get(k) != news.get(k)]
        replaces = [k for k in changed if k in SANDBOX_REPLACE_ON]
        return dynamic.DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[] if replaces else ["sandbox_id"],
            # A name is unique among an app's running sandboxes: the old one goes first. Its
            # work is in the volume, which a replacement does not touch.
            delete_before_replace=True,
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        import modal

        if olds.get("tags") != news.get("tags"):
            with _client(news, f"set tags of sandbox {id_}") as client:
                modal.Sandbox.from_id(id_, client=client).set_tags(dict(news["tags"]))
        return dynamic.UpdateResult(outs={**news, "sandbox_id": id_})

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        import modal
        from modal.exception import NotFoundError

        with (
            _client(props, f"terminate sandbox {id_}") as client,
            suppress(NotFoundError),
        ):  # gone is what delete wants
            modal.Sandbox.from_id(id_, client=client).terminate()


@dataclass(frozen=True)
class ModalCredentials:
    token_id: pulumi.Input[str]
    token_secret: pulumi.Input[str]


@dataclass(frozen=True, kw_only=True)
class ModalSandboxArgs:
    credentials: ModalCredentials
    app_name: str
    name: str  # the sandbox's name in the app
    volume: str  # its workspace volume's name
    image: str  # a registry image reference; empty: Debian slim with git
    env: Mapping[str, str]
    secret_env: Mapping[str, pulumi.Output[str]]
    tags: Mapping[str, str]
    cpus: float
    memory_bytes: int
    keep_data: bool
    timeout_seconds: int
    idle_timeout_seconds: int


class ModalWorkspace(dynamic.Resource):
    """The named Modal Volume holding one sandbox's workspace."""

    def __init__(
        self, name: str, args: ModalSandboxArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {
            "name": args.volume,
            "keep": args.keep_data,
            "token_id": args.credentials.token_id,
            "token_secret": args.credentials.token_secret,
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=["token_id", "token_secret"])
        super().__init__(
            ModalVolumeProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret)
        )


class ModalSandbox(dynamic.Resource):
    """One Modal Sandbox, mounting its ModalWorkspace at /workspace."""

    sandbox_id: pulumi.Output[str]
    """Modal's id of the sandbox (sb-...)."""

    def __init__(
        self,
        name: str,
        args: ModalSandboxArgs,
        workspace: ModalWorkspace,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "app_name": args.app_name,
            "name": args.name,
            "image": args.image,
            "command": boot_command(),
            "env": dict(args.env),
            "volume": args.volume,
            "tags": dict(args.tags),
            "cpu": args.cpus,
            "memory_mib": max(1, args.memory_bytes // 2**20),
            "timeout_seconds": args.timeout_seconds,
            "idle_timeout_seconds": args.idle_timeout_seconds,
            "token_id": args.credentials.token_id,
            "token_secret": args.credentials.token_secret,
            "sandbox_id": None,
        }
        props["env"] = env_with_secrets(args.env, args.secret_env)
        secret = pulumi.ResourceOptions(
            additional_secret_outputs=["token_id", "token_secret", "env"], depends_on=[workspace]
        )
        super().__init__(
            ModalSandboxProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret)
        )
