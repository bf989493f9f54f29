"""The planes behind one contract: one per runtime, and the review reads their tables."""

from __future__ import annotations

from components.planes import PLANES, Effect
from components.planes.base import ENV_FIELDS
from components.planes.docker.routes import ROUTES
from components.spec import Runtime
from components.tools.review import _PLAIN

REVIEWED_FIELDS = {name for name, _ in _PLAIN} | {"env", "secrets", "egress", "egress kind"}


def test_every_runtime_has_exactly_one_plane() -> None:
    assert set(PLANES) == set(Runtime)
    assert all(plane.runtime is runtime for runtime, plane in PLANES.items())


def test_each_planes_table_speaks_of_fields_the_review_compares() -> None:
    for runtime, plane in PLANES.items():
        assert set(plane.effects) <= REVIEWED_FIELDS, (
            runtime,
            set(plane.effects) - REVIEWED_FIELDS,
        )


def test_the_docker_table_is_its_routes() -> None:
    assert PLANES[Runtime.DOCKER].effects == {f: r.effect for f, r in ROUTES.items()}


def test_the_cloud_tables_follow_their_providers() -> None:
    """Derived from the providers' own replace lists: Daytona resizes in place and needs a new
    sandbox for anything in the env; a Modal sandbox cannot change once created."""
    in_env = ENV_FIELDS
    daytona, modal = PLANES[Runtime.DAYTONA].effects, PLANES[Runtime.MODAL].effects
    assert daytona == {
        "cpus": Effect.IN_PLACE,
        "memory": Effect.IN_PLACE,
        **dict.fromkeys(in_env, Effect.REPLACE),
    }
    assert modal == dict.fromkeys((*in_env, "cpus", "memory"), Effect.REPLACE)
