"""The planes a sandbox can run on, one per `runtime`, each behind the contract in base.py.
Adding a plane is one folder here and one entry in PLANES (a test checks it covers Runtime)."""

from ..spec import Runtime
from .base import Effect, Plane, PlaneArgs, PlaneOutputs, SecretLookup
from .daytona import DaytonaPlane
from .docker import DockerPlane
from .modal import ModalPlane

PLANES: dict[Runtime, type[Plane]] = {
    plane.runtime: plane for plane in (DockerPlane, DaytonaPlane, ModalPlane)
}

__all__ = ["PLANES", "Effect", "Plane", "PlaneArgs", "PlaneOutputs", "SecretLookup"]
