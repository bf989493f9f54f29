"""The review's restart verdicts, pinned against pulumi-docker's published schema.

ROUTES says which docker:index/container:Container inputs each spec field drives and
what applying a change does. The provider marks ForceNew inputs `willReplaceOnChanges`; a field
routed to any such input restarts the sandbox (container replaced), and a field that only
reaches in-place inputs (or none) must not claim a restart. If the Docker plane or the provider
changes, this fails and names the field.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.planes import Effect
from components.planes.docker.routes import ROUTES
from components.tools import review

from .conftest import DOCKER_SCHEMA

CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    if not DOCKER_SCHEMA.exists():
        pytest.fail(f"provider schema missing: {DOCKER_SCHEMA} (shared/ must sit beside the repo)")
    data: dict[str, Any] = json.loads(DOCKER_SCHEMA.read_text())
    return data


def inputs(schema: dict[str, Any], token: str) -> dict[str, Any]:
    props: dict[str, Any] = schema["resources"][token]["inputProperties"]
    return props


@pytest.mark.parametrize("field", sorted(ROUTES))
def test_verdict_follows_will_replace_on_changes(field: str, schema: dict[str, Any]) -> None:
    route = ROUTES[field]
    props = inputs(schema, CONTAINER)
    unknown = [p for p in route.container_inputs if p not in props]
    assert not unknown, f"{field}: {unknown} are not inputs of {CONTAINER}"
    replacing = [p for p in route.container_inputs if props[p].get("willReplaceOnChanges")]
    if replacing:
        assert route.effect is Effect.REPLACE, (
            f"{field} drives {replacing}, which pulumi-docker replaces on change; "
            f"the review says {route.effect!r}"
        )
    else:
        assert route.effect is not Effect.REPLACE, (
            f"{field} drives only in-place inputs {route.container_inputs}; "
            f"the review must not claim a restart"
        )


def test_the_facts_the_table_relies_on(schema: dict[str, Any]) -> None:
    props = inputs(schema, CONTAINER)
    for forcenew in ("image", "envs", "labels", "ports", "mounts", "cpus"):
        assert props[forcenew].get("willReplaceOnChanges"), forcenew
    assert not props["memory"].get("willReplaceOnChanges")
    # no pids limit in pulumi-docker: pids go through `docker update` (a command resource)
    assert not any("pid" in p.lower() and "mode" not in p.lower() for p in props), sorted(props)
    # data: keep/discard is the retainOnDelete *resource option*, never a volume input
    assert "retainOnDelete" not in inputs(schema, VOLUME)


def test_every_spec_field_has_a_route() -> None:
    shown = {name for name, _ in review._PLAIN} | {"env", "secrets"}
    assert shown <= set(ROUTES), shown - set(ROUTES)
