"""Framing of messages between the caller and its worker processes (pickle protocol 5).

A frame is ``length (8 bytes) | segment count (4) | segment sizes (8 each) | segments``. The
first segment is the pickle; the others are buffers sent out of band: numpy arrays and other
objects that export them, and ``bytes`` of 64 KiB or more found among the call's arguments or
the result. Those are written to the pipe straight from their own memory instead of being
copied into the pickle first.
"""

from __future__ import annotations

import pickle
import struct
from typing import Any

__all__ = ("HEADER", "decode", "encode", "segment_count")

HEADER = struct.Struct("<Q")
_COUNT = struct.Struct("<I")
_ONE = struct.Struct("<QIQ")  # length, count 1, size of the only segment
OOB_MIN = 1 << 16
_SCAN_LIMIT = 64  # look this many elements deep into a container for big bytes, no more


def _from_buffer(buffer: Any) -> bytes:
    return bytes(buffer)


class _OutOfBand:
    """Stands in for a big ``bytes`` object so that pickle hands its memory over as a buffer.

    (``Pickler.reducer_override`` is never consulted for exact ``bytes``, hence the stand-in.)
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __reduce_ex__(self, protocol: Any) -> tuple[Any, ...]:
        return _from_buffer, (pickle.PickleBuffer(self.data),)


def _swap(obj: Any, depth: int = 3) -> Any:
    """``obj`` with big bytes (in small containers, a few levels deep) replaced by stand-ins."""
    kind = type(obj)
    if kind is bytes:
        return _OutOfBand(obj) if len(obj) >= OOB_MIN else obj
    if depth == 0:
        return obj
    if kind in (tuple, list) and len(obj) <= _SCAN_LIMIT:
        return kind(_swap(item, depth - 1) for item in obj)
    if kind is dict and len(obj) <= _SCAN_LIMIT:
        return {key: _swap(value, depth - 1) for key, value in obj.items()}
    return obj


def _has_big_bytes(obj: Any, depth: int = 3) -> bool:
    kind = type(obj)
    if kind is bytes:
        return len(obj) >= OOB_MIN
    if depth == 0:
        return False
    if kind is tuple or kind is list:
        items = obj
    elif kind is dict:
        items = obj.values()
    else:
        return False
    if len(items) > _SCAN_LIMIT:
        return False
    for item in items:
        inner = type(item)
        if inner is bytes:
            if len(item) >= OOB_MIN:
                return True
        elif (inner is tuple or inner is list or inner is dict) and _has_big_bytes(item, depth - 1):
            return True
    return False


def encode(obj: Any) -> list[bytes | memoryview]:
    """Pickle ``obj`` into the segments of one frame (write them in order)."""
    buffers: list[pickle.PickleBuffer] = []
    if _has_big_bytes(obj):
        obj = _swap(obj)
    data = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    if not buffers:  # the common case: one segment, one object to write
        return [_ONE.pack(_ONE.size - HEADER.size + len(data), 1, len(data)) + data]
    raws = [buffer.raw() for buffer in buffers]  # pickle only accepts contiguous ones
    sizes = [len(data), *(raw.nbytes for raw in raws)]
    prefix = _COUNT.pack(len(sizes)) + struct.pack(f"<{len(sizes)}Q", *sizes)
    total = len(prefix) + sum(sizes)
    return [HEADER.pack(total) + prefix, data, *raws]


def segment_count(payload: memoryview) -> int:
    """How many segments the frame body ``payload`` holds (1: no out-of-band buffers)."""
    (count,) = _COUNT.unpack_from(payload)
    return int(count)


def decode(payload: memoryview) -> Any:
    """Unpickle a frame body (everything after the length). Buffers stay views of it."""
    count = segment_count(payload)
    sizes = struct.unpack_from(f"<{count}Q", payload, _COUNT.size)
    offset = _COUNT.size + 8 * count
    segments = []
    for size in sizes:
        segments.append(payload[offset : offset + size])
        offset += size
    return pickle.loads(segments[0], buffers=segments[1:])
