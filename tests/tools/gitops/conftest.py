"""Shared paths and helpers for the GitOps tests (review summaries, workflows, drift, hooks)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
FIXTURES = HERE / "fixtures"
WORKFLOWS = REPO / ".github" / "workflows"
DOCKER_SCHEMA = REPO.parent / "shared" / "provider-schemas" / "docker.schema.json"

# Every golden case is reviewed as of this day, so `expires` notes never depend on the clock.
TODAY = dt.date(2026, 11, 21)


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing_tool(message: str) -> None:
    """Locally a missing linter skips; under CI it fails, so a green CI means it really ran."""
    if under_ci():
        pytest.fail(message + " (CI=true: tools are required, never skipped)")
    pytest.skip(message)
