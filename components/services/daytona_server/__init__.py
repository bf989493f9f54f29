"""Daytona's open-source server on the fleet's host (docs/daytona.md, "Run your own server")."""

from .server import DaytonaServer, DaytonaServerArgs
from .service import requested

__all__ = ["DaytonaServer", "DaytonaServerArgs", "requested"]
