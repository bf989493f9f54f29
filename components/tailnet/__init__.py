"""Tailscale access: the bind address, the tailnet policy (ACL), auth keys, device tags."""
