"""sandbox-fleet: make the machine match sandboxes.yaml. Wiring only; logic is in components/."""

from pathlib import Path

import pulumi

from components.fleet import Fleet, FleetArgs
from components.settings import read_stack_settings
from components.spec import SpecError, load_spec

settings = read_stack_settings()
try:
    # A spec that does not load stops here, before any resource exists: a broken file must
    # never read as "zero sandboxes", which `pulumi up` would apply as "delete everything".
    spec = load_spec(Path(settings.top.spec), display_name=settings.top.spec)
except SpecError as error:
    raise pulumi.RunError(
        f"{settings.top.spec} is invalid; nothing was changed:\n{error}"
    ) from None

config = pulumi.Config()
fleet = Fleet(
    "fleet",
    FleetArgs(settings=settings, spec=spec, stack=pulumi.get_stack(), secret=config.get_secret),
)
for key, value in fleet.outputs.items():
    pulumi.export(key, value)
