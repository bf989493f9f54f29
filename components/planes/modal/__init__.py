"""The Modal plane: `runtime: modal` entries as Modal Sandboxes (component.py), through dynamic
providers over the `modal` client library (provider.py)."""

from .component import TOKEN_KEYS, ModalPlane

__all__ = ["TOKEN_KEYS", "ModalPlane"]
