"""A tiny random-weight llama GGUF that llama.cpp loads and serves.

The weights are noise, so the model answers gibberish; that is enough to test wiring (model
volume, server flags, health, chat completions) without downloading a real model. The tokenizer
is copied from a vocab-only GGUF vendored in the `llama-cpp-python` sdist on PyPI (PyPI is the
only place reachable from build machines), pinned to the same version the model-server image
builds from, and cached after the first download.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gguf
import numpy as np

from tests.support import LLAMA_CPP_PYTHON_VERSION

VOCAB_MEMBER = "vendor/llama.cpp/models/ggml-vocab-llama-spm.gguf"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "sandbox-fleet"


@dataclass(frozen=True)
class TinyLlamaShape:
    """Hyper-parameters of the tiny model; head_dim = n_embd // n_head."""

    n_layer: int = 2
    n_embd: int = 64
    n_head: int = 4
    n_head_kv: int = 4
    n_ff: int = 128
    n_ctx_train: int = 2048
    rms_eps: float = 1e-5
    rope_freq_base: float = 10000.0


TINY_SHAPE = TinyLlamaShape()


def vocab_gguf_path(cache_dir: Path | None = None) -> Path:
    """Return the cached llama SPM vocab GGUF, fetching the pinned sdist from PyPI if needed."""
    root = (cache_dir or DEFAULT_CACHE_DIR) / f"llama-cpp-python-{LLAMA_CPP_PYTHON_VERSION}"
    target = root / Path(VOCAB_MEMBER).name
    if target.is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        sdist = _download_sdist(Path(tmp))
        partial = Path(tmp) / target.name
        _extract_member(sdist, VOCAB_MEMBER, partial)
        # Atomic publish: concurrent test workers either see no file or a whole one.
        os.replace(partial, target)
    return target


def _download_sdist(dest: Path) -> Path:
    # --no-binary only for llama-cpp-python: its build backend may come as a wheel, which keeps
    # pip's metadata step fast; --no-deps because only the source tree is wanted.
    cmd = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
        "--no-binary", "llama-cpp-python", "-d", str(dest),
        f"llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION}",
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr}")
    found = sorted(dest.glob("llama_cpp_python-*.tar.gz"))
    if not found:
        raise RuntimeError(f"pip download left no llama_cpp_python sdist in {dest}")
    return found[0]


def _extract_member(sdist: Path, suffix: str, out: Path) -> None:
    with tarfile.open(sdist, "r:gz") as tar:
        for member in tar:
            if member.isfile() and member.name.endswith("/" + suffix):
                src = tar.extractfile(member)
                if src is None:
                    break
                with src, out.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
                return
    raise RuntimeError(f"{sdist.name} has no member ending in {suffix}")


def _tokenizer_fields(vocab: Path) -> Iterator[tuple[str, Any, gguf.GGUFValueType, Any]]:
    """Yield (key, value, type, sub_type) for every tokenizer.* key of a vocab GGUF."""
    reader = gguf.GGUFReader(vocab)
    for key, field in reader.fields.items():
        if not key.startswith("tokenizer."):
            continue
        vtype = field.types[0]
        if vtype == gguf.GGUFValueType.ARRAY:
            sub = field.types[-1]
            if sub == gguf.GGUFValueType.STRING:
                # Raw bytes, not decoded text, so the copy is byte-for-byte.
                yield key, [bytes(field.parts[i]) for i in field.data], vtype, sub
            else:
                yield key, field.contents(), vtype, sub
        else:
            yield key, field.contents(), vtype, None


def write_tiny_llama_gguf(
    path: Path,
    *,
    seed: int = 0,
    cache_dir: Path | None = None,
    shape: TinyLlamaShape = TINY_SHAPE,
) -> Path:
    """Write a random-weight llama GGUF to `path`; same seed and shape give identical bytes."""
    vocab = vocab_gguf_path(cache_dir)
    tokenizer = list(_tokenizer_fields(vocab))
    n_vocab = next(len(v) for k, v, _, _ in tokenizer if k == "tokenizer.ggml.tokens")

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(path, "llama")
    _add_hparams(writer, shape, n_vocab, seed)
    for key, value, vtype, sub in tokenizer:
        writer.add_key_value(key, value, vtype, sub_type=sub)
    for name, tensor in _random_tensors(shape, n_vocab, seed):
        writer.add_tensor(name, tensor)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _add_hparams(writer: gguf.GGUFWriter, s: TinyLlamaShape, n_vocab: int, seed: int) -> None:
    writer.add_name(f"sandbox-fleet-tiny-llama-seed{seed}")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(s.n_ctx_train)
    writer.add_embedding_length(s.n_embd)
    writer.add_block_count(s.n_layer)
    writer.add_feed_forward_length(s.n_ff)
    writer.add_head_count(s.n_head)
    writer.add_head_count_kv(s.n_head_kv)
    writer.add_rope_dimension_count(s.n_embd // s.n_head)
    writer.add_rope_freq_base(s.rope_freq_base)
    writer.add_layer_norm_rms_eps(s.rms_eps)
    writer.add_vocab_size(n_vocab)


def _random_tensors(
    s: TinyLlamaShape, n_vocab: int, seed: int
) -> Iterator[tuple[str, np.ndarray[Any, np.dtype[np.float32]]]]:
    """Tensors in llama.cpp naming; numpy shape is (rows=out, cols=in), i.e. ggml ne reversed.

    No output.weight: llama.cpp ties the output head to token_embd, halving the file size.
    """
    rng = np.random.default_rng(seed)
    n_kv = s.n_embd // s.n_head * s.n_head_kv

    def mat(rows: int, cols: int) -> np.ndarray[Any, np.dtype[np.float32]]:
        return (rng.standard_normal((rows, cols)) * 0.02).astype(np.float32)

    def ones(n: int) -> np.ndarray[Any, np.dtype[np.float32]]:
        return np.ones(n, dtype=np.float32)

    yield "token_embd.weight", mat(n_vocab, s.n_embd)
    for i in range(s.n_layer):
        yield f"blk.{i}.attn_norm.weight", ones(s.n_embd)
        yield f"blk.{i}.attn_q.weight", mat(s.n_embd, s.n_embd)
        yield f"blk.{i}.attn_k.weight", mat(n_kv, s.n_embd)
        yield f"blk.{i}.attn_v.weight", mat(n_kv, s.n_embd)
        yield f"blk.{i}.attn_output.weight", mat(s.n_embd, s.n_embd)
        yield f"blk.{i}.ffn_norm.weight", ones(s.n_embd)
        yield f"blk.{i}.ffn_gate.weight", mat(s.n_ff, s.n_embd)
        yield f"blk.{i}.ffn_up.weight", mat(s.n_ff, s.n_embd)
        yield f"blk.{i}.ffn_down.weight", mat(s.n_embd, s.n_ff)
    yield "output_norm.weight", ones(s.n_embd)
