"""The connection outputs are forms their clients open (#12 D): VS Code's Remote-SSH link names
a host alias (its URI takes no port) that the `sshConfig` output defines, and every URL holds
its address in a form URL parsers read (IPv6 in brackets); a published model server always has
its external URL."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .conftest import PRESETS, ROOT, RunSpec

SPEC = "version: 1\nsandboxes:\n  audit-a:\n    task: audit\n  ui-b:\n    task: frontend-dev\n"
VSCODE = re.compile(r"^vscode://vscode-remote/ssh-remote\+([A-Za-z0-9._-]+)/workspace$")


def ssh_config_of(block: str, alias: str, tmp_path: Path) -> dict[str, str]:
    """What ssh itself makes of `alias` with `block` as its only config file (`ssh -G`)."""
    config = tmp_path / "config"
    config.write_text(block)
    shown = subprocess.run(
        ["ssh", "-G", "-F", str(config), alias],
        capture_output=True, text=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    return dict(line.split(" ", 1) for line in shown.splitlines() if " " in line)


def test_the_vscode_link_names_a_host_alias_the_ssh_config_output_defines(
    run_spec: RunSpec, tmp_path: Path
) -> None:
    run = run_spec(SPEC)
    assert run.error is None, run.error
    for name, out in run.outputs["sandboxes"].items():
        found = VSCODE.match(out["vscode"])
        assert found, f"{name}: {out['vscode']} (Remote-SSH takes no :port in its URI)"
        alias = found[1]
        assert alias == f"sandbox-fleet-{name}"
        assert f"Host {alias}\n" in out["sshConfig"]
        port = urlsplit(out["ssh"]).port
        seen = ssh_config_of(out["sshConfig"], alias, tmp_path)
        assert (seen["hostname"], seen["port"], seen["user"]) == ("127.0.0.1", str(port), "dev")
        assert out["sshConfig"] in run.outputs["sshConfig"], "the stack's block holds every one"


def test_the_ssh_config_says_which_key_logs_in(run_spec: RunSpec) -> None:
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@x"
    block = run_spec(SPEC, sshAuthorizedKeys=[key]).outputs["sandboxes"]["audit-a"]["sshConfig"]
    assert "# IdentityFile: the private key of sandbox-fleet:sshAuthorizedKeys (a@x)" in block
    block = run_spec(SPEC).outputs["sandboxes"]["audit-a"]["sshConfig"]
    assert "# no key in sandbox-fleet:sshAuthorizedKeys" in block


def test_aliases_carry_the_name_prefix(run_spec: RunSpec) -> None:
    out = run_spec(SPEC, namePrefix="t1-").outputs["sandboxes"]["audit-a"]
    assert out["vscode"] == "vscode://vscode-remote/ssh-remote+t1-sandbox-fleet-audit-a/workspace"


def test_a_sandbox_with_its_own_tailnet_name_is_reached_by_it(
    run_spec: RunSpec, tmp_path: Path
) -> None:
    spec = SPEC + "    tailnet: true\n"
    run = run_spec(
        spec, ROOT / "stacks" / "linux-docker.yaml",
        tailnetSandboxIdentity=True, tailnetMagicDnsSuffix="tail1234.ts.net",
    )  # fmt: skip
    assert run.error is None, run.error
    out = run.outputs["sandboxes"]["ui-b"]
    seen = ssh_config_of(out["sshConfig"], "sandbox-fleet-ui-b", tmp_path)
    assert (seen["hostname"], seen["port"]) == ("ui-b.tail1234.ts.net", "2222")


@pytest.mark.parametrize("bind", ["127.0.0.1", "::1", "fd7a:115c:a1e0::53"])
def test_every_url_holds_the_bind_address_as_url_parsers_read_it(
    run_spec: RunSpec, bind: str, tmp_path: Path
) -> None:
    run = run_spec(SPEC, bindAddress=bind, modelServerPublish=True)
    assert run.error is None, run.error
    urls = [run.outputs["modelServer"]["externalUrl"], run.outputs["supervisor"]["apiUrl"]]
    for out in run.outputs["sandboxes"].values():
        urls += [out["ssh"], out["zed"], *([out["novnc"]] if "novnc" in out else [])]
        seen = ssh_config_of(out["sshConfig"], VSCODE.match(out["vscode"])[1], tmp_path)  # type: ignore[index]
        assert seen["hostname"] == bind
    for url in urls:
        parts = urlsplit(url.replace("zed://ssh/", "ssh://"))  # Zed's own form of an ssh URL
        assert parts.hostname == bind and parts.port, url


@pytest.mark.parametrize("stack", [ROOT / "Pulumi.dev.yaml", *PRESETS], ids=lambda p: p.name)
def test_a_published_model_server_always_has_its_external_url(
    run_spec: RunSpec, stack: Path
) -> None:
    run = run_spec(SPEC, stack, modelServerPublish=True)
    assert run.error is None, run.error
    if "modelServer" not in run.outputs:  # a cloud-only stack runs no model server
        assert run.outputs["host"]["variant"] == "none"
        return
    url = urlsplit(run.outputs["modelServer"]["externalUrl"])
    assert (url.scheme, url.hostname, url.port, url.path) == (
        "http",
        run.outputs["host"]["bindAddress"],
        18080,
        "/v1",
    )
    unpublished = run_spec(SPEC, stack, modelServerPublish=False).outputs["modelServer"]
    assert unpublished["externalUrl"] == ""
