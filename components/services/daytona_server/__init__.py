"""Daytona's open-source server on the fleet's host (docs/daytona.md, "Run your own server")."""

from .server import DaytonaServer, DaytonaServerArgs, DaytonaServerOutputs

__all__ = ["DaytonaServer", "DaytonaServerArgs", "DaytonaServerOutputs"]
