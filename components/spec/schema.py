"""JSON schema of sandboxes.yaml, for editors (yaml-language-server) and CI."""

from __future__ import annotations

import json
from typing import Any

from .models import SpecFile

SCHEMA_FILE = "sandboxes.schema.json"


def json_schema() -> dict[str, Any]:
    schema = SpecFile.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def render_json_schema() -> str:
    """Byte-stable text: the committed file is compared with this in a test."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
