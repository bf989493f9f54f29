"""The Daytona plane: `runtime: daytona` entries on a Daytona server (component.py), through a
dynamic provider over Daytona's REST API (provider.py)."""

from .component import API_KEY, DaytonaPlane

__all__ = ["API_KEY", "DaytonaPlane"]
