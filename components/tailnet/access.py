"""Tailscale access for the fleet: bind address, tailnet policy, auth keys, device tags.

`TailnetSettings` is the stack config `sandbox-fleet:tailnet`; absent means no tailnet, and then
`TailnetAccess` creates nothing and binds every published port to 127.0.0.1. Credentials are not
settings here: the default tailscale provider reads `tailscale:apiKey` (or `tailscale:oauthClientId`
and `tailscale:oauthClientSecret`) and `tailscale:tailnet`, set with `pulumi config set --secret`.
See docs/tailnet.md.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_tailscale as tailscale

from components.host.preflight import discover_tailnet_address
from components.host.ssh import SshTarget
from components.settings.tailnet import TailnetSettings

from .policy import FleetAccess, build_policy

LOOPBACK = "127.0.0.1"
DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def key_description(kind: str, name: str, rotation: str) -> str:
    """Key description (at most 50 letters, digits, dashes, spaces) that carries the rotation."""
    label = re.sub(r"[^A-Za-z0-9-]", "-", name)
    text = f"sandbox-fleet {kind} {label} r{rotation}"
    if len(text) > 50:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        room = 50 - len(f"sandbox-fleet {kind}  r{rotation}") - 9
        text = f"sandbox-fleet {kind} {label[:room]}-{digest} r{rotation}"
    return text


@dataclass(frozen=True, kw_only=True)
class TailnetAccessArgs:
    """Inputs of TailnetAccess."""

    settings: TailnetSettings | None
    """Validated `sandbox-fleet:tailnet`; None: no tailnet, bind to 127.0.0.1."""
    published_ports: Sequence[int] = ()
    """Every host port the fleet publishes (SSH, noVNC, model server, supervisor API)."""
    peer_ports: Sequence[int] = ()
    """Ports the fleet's hosts reach on one another (headquarters' bus, several hosts only)."""
    hosts: Sequence[str] = ()
    """Hosts the fleet provisions, each gets a single-use tagged auth key."""
    sandbox_identities: Sequence[str] = ()
    """Sandboxes that join the tailnet themselves (needs sandboxIdentity: true)."""
    ssh: SshTarget | None = None
    """The host's SSH path, for discoverAddress (host key pinned); None: run locally."""
    project_dir: Path | None = None
    """Where basePolicyFile is resolved; default the working directory (the Pulumi project)."""


class TailnetAccess(pulumi.ComponentResource):
    """The fleet's place on the tailnet."""

    bind_address: pulumi.Output[str]
    """Address every published port binds to: the host's tailnet IPv4, or 127.0.0.1."""
    host_auth_keys: dict[str, pulumi.Output[str]]
    """Per host, a secret single-use preauthorized auth key tagged with hostTag."""
    sandbox_auth_keys: dict[str, pulumi.Output[str]]
    """Per sandbox identity, a secret single-use preauthorized key with sandboxTag. Not
    ephemeral: an ephemeral node is removed once it has been offline a while, and its sidecar,
    which keeps the node's state on a volume, could then never rejoin (the key is spent)."""
    magic_dns_names: dict[str, str]
    """Per sandbox identity, the name to reach it by (ssh://<name>)."""
    policy_json: pulumi.Output[str]
    """The tailnet policy sent to Tailscale, or "" when manageAcl is off."""

    def __init__(
        self, name: str, args: TailnetAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sandbox-fleet:index:TailnetAccess", name, None, opts)
        settings = args.settings
        self.host_auth_keys, self.sandbox_auth_keys, self.magic_dns_names = {}, {}, {}
        self.policy_json = pulumi.Output.from_input("")
        if settings is None:
            self.bind_address = pulumi.Output.from_input(LOOPBACK)
        else:
            try:
                self._build(name, settings, args)
            except ValueError as exc:  # the repo's policy file or the stack's settings
                raise pulumi.RunError(str(exc)) from None
        self.register_outputs(
            {
                "bindAddress": self.bind_address,
                "hostAuthKeys": self.host_auth_keys,
                "sandboxAuthKeys": self.sandbox_auth_keys,
                "magicDnsNames": self.magic_dns_names,
                "policyJson": self.policy_json,
            }
        )

    def _build(self, name: str, settings: TailnetSettings, args: TailnetAccessArgs) -> None:
        identities = sorted(set(args.sandbox_identities))
        _check_identities(identities, settings)
        child = pulumi.ResourceOptions(parent=self)
        acl = self._acl(name, settings, args, identities) if settings.manage_acl else None
        after_acl = pulumi.ResourceOptions(parent=self, depends_on=[acl] if acl else [])
        if settings.address is not None:
            self.bind_address = pulumi.Output.from_input(settings.address)
        else:
            self.bind_address = discover_tailnet_address(
                f"{name}-discover-address", args.ssh, child
            )
        for host in sorted(set(args.hosts)):
            self.host_auth_keys[host] = self._key(name, "host", host, settings, after_acl)
        for sandbox in identities:
            self.sandbox_auth_keys[sandbox] = self._key(
                name, "sandbox", sandbox, settings, after_acl
            )
            suffix = settings.magic_dns_suffix
            self.magic_dns_names[sandbox] = f"{sandbox}.{suffix}" if suffix else sandbox
        if settings.host_device:
            by_name = "." in settings.host_device
            device = tailscale.get_device_output(
                name=settings.host_device if by_name else None,
                hostname=None if by_name else settings.host_device,
                wait_for="60s",
                opts=pulumi.InvokeOutputOptions(parent=self),
            )
            tailscale.DeviceTags(
                f"{name}-host-tags",
                device_id=device.node_id,
                tags=[settings.host_tag],
                opts=after_acl,
            )

    def _acl(
        self, name: str, settings: TailnetSettings, args: TailnetAccessArgs, identities: list[str]
    ) -> tailscale.Acl:
        path = (args.project_dir or Path.cwd()) / settings.base_policy_file
        try:
            base_text = path.read_text()
        except OSError as exc:
            raise ValueError(
                f"sandbox-fleet:tailnetBasePolicyFile: cannot read {path}: "
                f"{exc.strerror}; keep the base tailnet policy (HuJSON) in the repo"
            ) from None
        access = FleetAccess(
            owner=settings.owner,
            host_tag=settings.host_tag,
            published_ports=tuple(args.published_ports),
            sandbox_tag=settings.sandbox_tag if identities else None,
            sandbox_ports=settings.sandbox_ports,
            extra_tag_owners=settings.extra_tag_owners,
            peer_ports=tuple(args.peer_ports),
        )
        policy = build_policy(base_text, access, source=settings.base_policy_file)
        self.policy_json = pulumi.Output.from_input(policy)
        if settings.overwrite_existing_policy:
            pulumi.log.warn(
                "sandbox-fleet:tailnetOverwriteExistingPolicy is on: creating the Acl "
                "REPLACES the tailnet's current policy file"
                f" with {settings.base_policy_file} plus the fleet's grants, "
                "without importing it first. Turn it off after the first successful `pulumi up` "
                "(docs/tailnet.md)",
                resource=self,
            )
        return tailscale.Acl(
            f"{name}-acl",
            acl=policy,
            overwrite_existing_content=settings.overwrite_existing_policy,
            reset_acl_on_destroy=False,
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )

    def _key(
        self,
        name: str,
        kind: str,
        target: str,
        settings: TailnetSettings,
        opts: pulumi.ResourceOptions,
    ) -> pulumi.Output[str]:
        sandbox = kind == "sandbox"
        key = tailscale.TailnetKey(
            f"{name}-{kind}-key-{target}",
            description=key_description(kind, target, settings.key_rotation),
            tags=[settings.sandbox_tag if sandbox else settings.host_tag],
            preauthorized=True,
            reusable=False,
            ephemeral=False,
            expiry=settings.key_expiry_seconds,
            # A used single-use key reads as invalid; "never" keeps it from being re-minted on
            # every `up`. Rotation is explicit: change keyRotation (it is in the description).
            recreate_if_invalid="never",
            opts=pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(replace_on_changes=["description"])
            ),
        )
        return pulumi.Output.secret(key.key)


def _check_identities(identities: list[str], settings: TailnetSettings) -> None:
    if not identities:
        return
    if not settings.sandbox_identity:
        raise ValueError(
            f"sandboxes {', '.join(identities)} ask for their own tailnet identity but "
            "sandbox-fleet:tailnetSandboxIdentity is false; set it to true to let the fleet "
            "mint their keys"
        )
    bad = [s for s in identities if not DNS_LABEL.match(s)]
    if bad:
        raise ValueError(
            f"sandbox names {bad} cannot be MagicDNS hostnames: use lowercase letters, digits "
            "and dashes (at most 63)"
        )
