"""The Docker plane: sandboxes as hardened containers on this stack's host."""
