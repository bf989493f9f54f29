"""The shared mocks echo inputs back as state, so a command's `stdout` comes back empty. Tests
here stand in for the host: a command resource answers with the text set in `host_stdout`
(keyed by the end of the resource name), as the real command would print on the host."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import pulumi_harness


@pytest.fixture(autouse=True)
def host_stdout(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    answers = {"-discover-address": "100.101.102.103\n"}
    original = pulumi_harness._Mocks.new_resource

    def new_resource(self: Any, args: Any) -> tuple[str, dict[str, Any]]:
        resource_id, state = original(self, args)
        if args.typ.startswith("command:"):
            for suffix, text in answers.items():
                if args.name.endswith(suffix):
                    state = {**state, "stdout": text}
        return resource_id, state

    monkeypatch.setattr(pulumi_harness._Mocks, "new_resource", new_resource)
    yield answers
