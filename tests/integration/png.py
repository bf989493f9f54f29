"""Decode the 8-bit, non-interlaced RGB(A) PNGs Chromium writes (stdlib zlib + numpy).

Enough to look at a screenshot's pixels without adding an imaging library to the test
dependencies; anything else (palette, 16-bit, interlaced) raises.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import numpy.typing as npt

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {2: 3, 6: 4}  # colour type -> bytes per pixel


def decode_png(data: bytes) -> npt.NDArray[np.uint8]:
    """Pixels as a (height, width, channels) uint8 array."""
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG")
    pos, idat, header = len(SIGNATURE), bytearray(), b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in CHANNELS or interlace:
        raise ValueError(
            f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}"
        )
    bpp = CHANNELS[colour]
    raw = zlib.decompress(bytes(idat))
    stride = width * bpp
    out = np.zeros((height, stride), dtype=np.uint8)
    prior = np.zeros(stride, dtype=np.int64)
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        row = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=start + 1).astype(np.int64)
        recon = _unfilter(kind, row, prior, bpp)
        out[y] = recon.astype(np.uint8)
        prior = recon
    return out.reshape(height, width, bpp)


def _unfilter(
    kind: int, row: npt.NDArray[np.int64], prior: npt.NDArray[np.int64], bpp: int
) -> npt.NDArray[np.int64]:
    if kind == 0:
        return row
    if kind == 1:  # Sub: running sum per channel
        return np.cumsum(row.reshape(-1, bpp), axis=0).reshape(-1) % 256
    if kind == 2:  # Up
        return (row + prior) % 256
    if kind not in (3, 4):
        raise ValueError(f"bad PNG filter {kind}")
    recon, up = row.tolist(), prior.tolist()
    for x in range(len(recon)):
        left = recon[x - bpp] if x >= bpp else 0
        if kind == 3:  # Average
            recon[x] = (recon[x] + (left + up[x]) // 2) % 256
        else:  # Paeth
            upleft = up[x - bpp] if x >= bpp else 0
            p = left + up[x] - upleft
            pa, pb, pc = abs(p - left), abs(p - up[x]), abs(p - upleft)
            pred = left if pa <= pb and pa <= pc else up[x] if pb <= pc else upleft
            recon[x] = (recon[x] + pred) % 256
    return np.array(recon, dtype=np.int64)


def distinct_colours(pixels: npt.NDArray[np.uint8]) -> int:
    return len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0))


def fraction_near(pixels: npt.NDArray[np.uint8], rgb: tuple[int, int, int], tol: int = 40) -> float:
    """Share of pixels within `tol` of `rgb` on every channel."""
    diff = np.abs(pixels[..., :3].astype(np.int64) - np.array(rgb))
    return float((diff <= tol).all(axis=-1).mean())
