"""Frames between caller and workers: big buffers travel out of band, everything round-trips."""

from __future__ import annotations

import os
import pickle

from unstall.offload._wire import HEADER, OOB_MIN, decode, encode, segment_count


def _body(segments: list[bytes | memoryview]) -> memoryview:
    frame = b"".join(bytes(s) for s in segments)
    (size,) = HEADER.unpack_from(frame)
    assert size == len(frame) - HEADER.size
    return memoryview(frame)[HEADER.size :]


def test_small_objects_are_one_segment() -> None:
    body = _body(encode(("x", [1, 2.5, None], {"k": b"small"})))
    assert segment_count(body) == 1
    assert decode(body) == ("x", [1, 2.5, None], {"k": b"small"})


def test_big_bytes_in_the_arguments_go_out_of_band() -> None:
    big = os.urandom(OOB_MIN * 4)
    segments = encode((len, (big, b"tiny"), {"other": big}))
    # The pickle segment stays small: the payload is referenced, not copied in.
    assert len(segments[1]) < 1024
    assert any(isinstance(s, memoryview) and s.obj is big for s in segments[2:])
    body = _body(segments)
    assert segment_count(body) >= 2
    fn, args, kwargs = decode(body)
    assert fn is len
    assert args == (big, b"tiny")
    assert type(args[0]) is bytes
    assert kwargs == {"other": big}


def test_objects_exporting_buffers_go_out_of_band() -> None:
    data = bytearray(os.urandom(OOB_MIN))
    body = _body(encode((0, pickle.PickleBuffer(data))))
    assert segment_count(body) == 2
    kind, value = decode(body)
    assert kind == 0
    assert bytes(value) == bytes(data)
