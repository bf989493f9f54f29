"""Base of a settings group whose snake_case fields are read from camelCase config keys."""

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

PROJECT = "sandbox-fleet"  # Pulumi.yaml's name: every setting is `sandbox-fleet:<key>`


class SettingsGroup(BaseModel):
    """Frozen, strict about unknown keys; each field's docstring is its Pulumi.yaml description."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        use_attribute_docstrings=True,
    )
