"""The tiny GGUF writer, and the model-server image serving what it writes."""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import gguf
import pytest

from components.contract import MODEL_SERVER_PORT
from tests.support import (
    LLAMA_CPP_PYTHON_VERSION,
    MODEL_SERVER_CONTEXT,
    ensure_model_server_image,
)
from tests.support.tiny_gguf import TINY_SHAPE, vocab_gguf_path, write_tiny_llama_gguf

# The container command shared with ghcr.io/ggml-org/llama.cpp:server.
SERVER_ARGS = [
    "-m", "/models/model.gguf", "--host", "0.0.0.0", "--port", "8080",
    "-c", "512", "-t", "2", "-ngl", "0",
]  # fmt: skip
TEST_LABEL = "io.sandbox-fleet.test"


def _field(reader: gguf.GGUFReader, key: str) -> Any:
    field = reader.get_field(key)
    assert field is not None, f"GGUF has no key {key!r}"
    return field.contents()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_dockerfile_pins_the_same_llama_cpp_python_as_the_vocab_helper() -> None:
    dockerfile = (MODEL_SERVER_CONTEXT / "Dockerfile").read_text()
    pins = set(re.findall(r"^ARG LLAMA_CPP_PYTHON_VERSION=(\S+)$", dockerfile, re.M))
    assert pins == {LLAMA_CPP_PYTHON_VERSION}


def test_tiny_gguf_has_llama_hyperparameters(tiny_model: Path) -> None:
    reader = gguf.GGUFReader(tiny_model)
    s = TINY_SHAPE
    assert _field(reader, "general.architecture") == "llama"
    assert _field(reader, "general.name") == "sandbox-fleet-tiny-llama-seed0"
    expected = {
        "llama.block_count": s.n_layer,
        "llama.embedding_length": s.n_embd,
        "llama.feed_forward_length": s.n_ff,
        "llama.attention.head_count": s.n_head,
        "llama.attention.head_count_kv": s.n_head_kv,
        "llama.rope.dimension_count": s.n_embd // s.n_head,
        "llama.context_length": s.n_ctx_train,
    }
    assert {key: _field(reader, key) for key in expected} == expected
    assert _field(reader, "llama.vocab_size") == 32000


def test_tiny_gguf_tensors_have_llama_names_and_shapes(tiny_model: Path) -> None:
    reader = gguf.GGUFReader(tiny_model)
    tensors = {t.name: t for t in reader.tensors}
    per_block = ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output",
                 "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"]  # fmt: skip
    expected_names = {"token_embd.weight", "output_norm.weight"} | {
        f"blk.{i}.{t}.weight" for i in range(TINY_SHAPE.n_layer) for t in per_block
    }
    assert set(tensors) == expected_names
    assert all(t.tensor_type == gguf.GGMLQuantizationType.F32 for t in tensors.values())
    # GGUF shapes are ggml `ne`: innermost dimension first.
    assert list(tensors["token_embd.weight"].shape) == [TINY_SHAPE.n_embd, 32000]
    assert list(tensors["blk.0.ffn_down.weight"].shape) == [TINY_SHAPE.n_ff, TINY_SHAPE.n_embd]


def test_tiny_gguf_tokenizer_is_copied_from_the_vendored_vocab(tiny_model: Path) -> None:
    model, vocab = gguf.GGUFReader(tiny_model), gguf.GGUFReader(vocab_gguf_path())
    keys = [k for k in vocab.fields if k.startswith("tokenizer.")]
    assert "tokenizer.ggml.tokens" in keys
    for key in keys:
        assert _field(model, key) == _field(vocab, key), key


def test_same_seed_gives_identical_bytes(tiny_model: Path, tmp_path: Path) -> None:
    again = write_tiny_llama_gguf(tmp_path / "again.gguf", seed=0)
    assert _sha256(again) == _sha256(tiny_model)


def test_other_seed_gives_other_weights(tiny_model: Path, tmp_path: Path) -> None:
    other = write_tiny_llama_gguf(tmp_path / "other.gguf", seed=1)
    assert _sha256(other) != _sha256(tiny_model)
    a = gguf.GGUFReader(tiny_model).get_tensor(0)
    b = gguf.GGUFReader(other).get_tensor(0)
    assert a.name == b.name
    assert (a.data != b.data).any()


@pytest.mark.docker
def test_image_matches_the_official_server_image_layout(
    docker_client: docker.DockerClient,
) -> None:
    image_id = ensure_model_server_image(docker_client)
    config = docker_client.images.get(image_id).attrs["Config"]
    assert config["Entrypoint"] == ["/app/llama-server"]
    assert config["User"] == "1000:1000"
    assert "LLAMA_ARG_HOST=0.0.0.0" in config["Env"]
    assert f"LLAMA_ARG_PORT={MODEL_SERVER_PORT}" in config["Env"], "the contract's port, built in"
    assert "http://127.0.0.1:$LLAMA_ARG_PORT/health" in " ".join(config["Healthcheck"]["Test"])
    assert f"{MODEL_SERVER_PORT}/tcp" in config["ExposedPorts"]


def _model_tar(model: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tar.gettarinfo(str(model), arcname="model.gguf")
        info.uid = info.gid = 1000
        info.mode = 0o644
        with model.open("rb") as f:
            tar.addfile(info, f)
    return buf.getvalue()


@pytest.fixture(scope="module")
def served_model(docker_client: docker.DockerClient, tiny_model: Path) -> Iterator[Any]:
    """A hardened model-server container serving the tiny model on a loopback port."""
    image_id = ensure_model_server_image(docker_client)
    run_id = uuid.uuid4().hex[:8]
    volume = docker_client.volumes.create(f"sf-test-models-{run_id}", labels={TEST_LABEL: "1"})
    container = docker_client.containers.create(
        image_id,
        command=SERVER_ARGS,
        name=f"sf-test-model-server-{run_id}",
        user="1000:1000",
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        mem_limit="1g",
        volumes={volume.name: {"bind": "/models", "mode": "rw"}},
        ports={"8080/tcp": ("127.0.0.1", None)},
        labels={TEST_LABEL: "1"},
    )
    try:
        # Copied in through the engine, so this works for a remote engine too.
        assert container.put_archive("/models", _model_tar(tiny_model))
        container.start()
        yield container
    finally:
        container.remove(force=True)
        volume.remove(force=True)


def _base_url(container: Any) -> str:
    container.reload()
    binding = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]
    return f"http://127.0.0.1:{binding['HostPort']}"


def _wait_until(check: Any, container: Any, what: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        container.reload()
        if container.status == "exited":
            break
        time.sleep(1)
    logs = container.logs(tail=40).decode(errors="replace")
    pytest.fail(f"{what} not reached (status {container.status}); last logs:\n{logs}")


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@pytest.mark.docker
def test_image_serves_a_chat_completion_from_the_tiny_model(served_model: Any) -> None:
    url = _base_url(served_model)
    _wait_until(lambda: _health_ok(url), served_model, "/health 200")
    body = {
        "messages": [{"role": "user", "content": "Say hello."}],
        "max_tokens": 8,
        "temperature": 0,
        "seed": 0,
    }
    req = urllib.request.Request(
        f"{url}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        reply = json.load(resp)
    content = reply["choices"][0]["message"]["content"]
    assert isinstance(content, str) and content, reply
    assert reply["usage"]["completion_tokens"] >= 1, reply


@pytest.mark.docker
def test_container_reports_healthy(served_model: Any) -> None:
    def healthy() -> bool:
        served_model.reload()
        return bool(served_model.attrs["State"].get("Health", {}).get("Status") == "healthy")

    _wait_until(healthy, served_model, "health status 'healthy'", timeout_s=90)
