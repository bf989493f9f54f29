"""The openai runtime against FakeOpenAIServer, a local fake speaking the chat-completions shape."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from supervisor.runtimes import AgentError, OpenAIRuntime, TransientAgentError
from supervisor.task import Task

from .fake_openai import FakeOpenAIServer


def make_task(prompt: str = "list the files", sandbox: str = "sb-1") -> Task:
    return Task(
        id=1,
        sender="tester",
        sandbox=sandbox,
        prompt=prompt,
        status="running",
        result=None,
        error=None,
        attempts=0,
        created_at="",
        updated_at="",
    )


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    server = FakeOpenAIServer().start()
    yield server
    server.stop()


def test_returns_the_assistant_text_from_fake_openai(fake: FakeOpenAIServer) -> None:
    runtime = OpenAIRuntime(
        fake.base_url, model="tiny-llama", system_prompt="be brief", max_tokens=64
    )
    runtime.initialize()
    assert runtime.execute(make_task("list the files")) == "fake-openai reply to: list the files"
    assert fake.requests == [
        {
            "model": "tiny-llama",
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": "list the files"},
            ],
            "stream": False,
            "max_tokens": 64,
        }
    ]
    assert "Authorization" not in fake.headers[0]


def test_sends_the_api_key_as_bearer_and_hides_it_from_repr(fake: FakeOpenAIServer) -> None:
    runtime = OpenAIRuntime(fake.base_url, model="m", api_key="sk-local-123")
    runtime.execute(make_task())
    assert fake.headers[0]["Authorization"] == "Bearer sk-local-123"
    assert "sk-local" not in repr(runtime)
    assert [m["role"] for m in fake.requests[0]["messages"]] == ["user"]


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_are_transient(fake: FakeOpenAIServer, status: int) -> None:
    fake.fail_next = [status]
    with pytest.raises(TransientAgentError, match=f"model server returned HTTP {status}"):
        OpenAIRuntime(fake.base_url, model="m").execute(make_task())


def test_client_errors_are_permanent(fake: FakeOpenAIServer) -> None:
    fake.fail_next = [400]
    with pytest.raises(AgentError) as err:
        OpenAIRuntime(fake.base_url, model="m").execute(make_task())
    assert not isinstance(err.value, TransientAgentError)
    assert "HTTP 400" in str(err.value) and "fake-openai failure" in str(err.value)


def test_malformed_replies_are_permanent(fake: FakeOpenAIServer) -> None:
    fake.raw_reply = b'{"choices": []}'
    with pytest.raises(AgentError, match=r"no choices\[0\]\.message\.content"):
        OpenAIRuntime(fake.base_url, model="m").execute(make_task())
    fake.raw_reply = b"<html>proxy error</html>"
    with pytest.raises(AgentError, match="non-JSON response: <html>proxy error</html>"):
        OpenAIRuntime(fake.base_url, model="m").execute(make_task())


def test_connection_refused_is_transient() -> None:
    fake = FakeOpenAIServer().start()
    fake.stop()  # the port is now closed: connection refused
    with pytest.raises(TransientAgentError, match=r"model server unreachable at .*refused"):
        OpenAIRuntime(fake.base_url, model="m").execute(make_task())


def test_a_stalled_fake_openai_times_out_as_transient(fake: FakeOpenAIServer) -> None:
    fake.stall.set()
    with pytest.raises(TransientAgentError, match="timed out"):
        OpenAIRuntime(fake.base_url, model="m", timeout=0.3).execute(make_task())


def test_initialize_rejects_a_url_without_host() -> None:
    with pytest.raises(AgentError, match="not an http"):
        OpenAIRuntime("http:///v1", model="m").initialize()
