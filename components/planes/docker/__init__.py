"""The Docker plane: sandboxes as hardened containers on this stack's host (component.py), the
rules for what reaches them (routes.py), one Sandbox (sandbox.py), its drift labels
(config_hash.py) and connection strings (connections.py)."""

from .component import DockerHost, DockerPlane

__all__ = ["DockerHost", "DockerPlane"]
