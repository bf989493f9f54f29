"""The planes a sandbox can run on, one per `runtime`, each behind the contract in base.py.
Adding a plane is one module here and one entry in PLANES (a test checks it covers Runtime)."""

from ..spec import Runtime
from .base import Effect, Plane, SecretLookup
from .daytona import DAYTONA
from .docker.routes import DOCKER
from .modal import MODAL

PLANES: dict[Runtime, Plane] = {plane.runtime: plane for plane in (DOCKER, DAYTONA, MODAL)}

__all__ = ["PLANES", "Effect", "Plane", "SecretLookup"]
