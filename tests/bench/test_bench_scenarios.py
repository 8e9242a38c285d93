"""Scenario wiring: every variant's endpoint answers on the real server processes, lag is measured,
and a tiny real run produces the table and the chart."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from unstall._cli import main
from unstall.bench import run_load
from unstall.bench._runner import get_json
from unstall.bench._scenarios import SCENARIOS, Variant

VARIANTS = [(s.name, v) for s in SCENARIOS for v in s.variants]


@pytest.mark.parametrize(
    ("scenario", "variant"), VARIANTS, ids=[f"{s}-{v.name}" for s, v in VARIANTS]
)
def test_every_variant_answers(servers: Any, scenario: str, variant: Variant) -> None:
    base = servers.service if variant.server == "async" else servers.sync
    result = asyncio.run(run_load(base + variant.path, concurrency=2, duration=30, max_requests=4))
    assert (result.ok, result.errors) == (4, 0), result.error_kinds


def test_lag_endpoint_sees_the_blocking_variant(servers: Any) -> None:
    async def measure(path: str) -> dict[str, Any]:
        await get_json(servers.service, "/__unstall/reset")
        await run_load(servers.service + path, concurrency=8, duration=0.6)
        lag: dict[str, Any] = await get_json(servers.service, "/__unstall/lag")
        return lag

    async def main_() -> None:
        blocking = await measure("/sleep/blocking")
        # eight 20 ms sleeps per loop iteration: the heartbeat is ~160 ms late; 60 ms is a safe floor
        assert blocking["samples"] > 0
        assert blocking["max_ms"] >= 60, blocking
        assert blocking["p99_ms"] <= blocking["max_ms"]
        fixed = await measure("/sleep/async")
        assert fixed["samples"] > 0
        assert set(fixed) >= {"p50_ms", "p90_ms", "p99_ms", "max_ms", "mode", "stalls"}

    asyncio.run(main_())


def test_lag_is_reset_between_measurements(servers: Any) -> None:
    async def main_() -> None:
        await get_json(servers.service, "/__unstall/reset")
        await run_load(servers.service + "/sleep/blocking", concurrency=8, duration=0.6)
        before = await get_json(servers.service, "/__unstall/lag")
        assert before["stalls"] >= 1, before
        await get_json(servers.service, "/__unstall/reset")
        after = await get_json(servers.service, "/__unstall/lag")
        # nothing blocked since the reset: the earlier load's stalls and samples are gone
        assert after["stalls"] < before["stalls"], (before, after)
        assert after.get("max_ms", 0.0) < before["max_ms"], (before, after)

    asyncio.run(main_())


@pytest.mark.slow
def test_a_tiny_real_run_produces_table_and_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "bench",
            "--scenarios",
            "sleep",
            "--concurrency",
            "2,4",
            "--duration",
            "0.3",
            "--format",
            "markdown",
            "--output",
            str(out),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    variants = [v.name for v in SCENARIOS[0].variants]
    # the table: one Markdown row per variant and level, in run order
    rows = [line for line in captured.out.splitlines() if line.startswith("| sleep |")]
    assert [(r.split("|")[2].strip(), r.split("|")[3].strip()) for r in rows] == [
        (v, c) for v in variants for c in ("2", "4")
    ]
    # progress went to stderr, one line per measurement
    assert len(re.findall(r"\[ ?\d/6\] sleep", captured.err)) == 6
    data = json.loads((out / "bench.json").read_text())
    assert len(data["rows"]) == 6
    for row in data["rows"]:
        assert row["requests"] > 0
        assert row["rps"] > 0
        assert row["errors"] == 0
        assert row["max_in_flight"] == row["concurrency"]
        if row["variant"] == "sync server":
            assert row["lag_max_ms"] is None
            assert row["stalls"] is None
        else:
            assert row["lag_max_ms"] is not None
            assert row["stalls"] >= 0
    html = (out / "bench.html").read_text()
    assert "<svg" in html
    assert "<script" not in html
    assert not re.search(r"(src|href)=", html)  # self-contained: nothing is fetched
    svg = (out / "bench.svg").read_text()
    for variant in variants:
        # one bar per level in the requests/s and latency panels (+ lag for the async variants)
        bars = re.findall(rf"<title>{re.escape(variant)}, (\d+) concurrent: ", svg)
        assert sorted(set(bars)) == ["2", "4"]
        assert len(bars) == (4 if variant == "sync server" else 6)
        assert f"<td>{variant}</td>" in html


@pytest.mark.slow
def test_a_tiny_open_loop_run_keeps_its_schedule_and_draws_the_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    out = tmp_path / "out"
    args = ["bench", "--scenarios", "sleep", "--rate", "20,40", "--concurrency", "8"]
    code = main([*args, "--duration", "0.3", "--output", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "open loop: requests start on schedule" in captured.out.splitlines()[0]
    assert len(re.findall(r"\[ ?\d/6\] sleep .* rate=(?:20|40) ", captured.err)) == 6
    data = json.loads((out / "bench.json").read_text())
    assert data["mode"] == "open loop"
    assert [(row["rate"], row["concurrency"]) for row in data["rows"]] == [(20, 8), (40, 8)] * 3
    for row in data["rows"]:
        # request n is due at n / rate: 6 and 12 of them start within 0.3 s, whatever the answers
        assert row["requests"] == round(row["rate"] * 0.3)
        assert row["errors"] == 0
        assert row["max_in_flight"] <= 8
    with Image.open(out / "bench.png") as image:
        assert image.format == "PNG"
        assert image.size[0] == 2 * int(
            re.findall(r"width='(\d+)'", (out / "bench.svg").read_text())[0]
        )


def test_offload_auto_decision_is_reported(servers: Any) -> None:
    async def main_() -> None:
        result = await run_load(
            servers.service + "/cpu/auto", concurrency=2, duration=30, max_requests=8
        )
        assert result.ok == 8
        stats = await get_json(servers.service, "/__unstall/offload")
        decisions = [d for d in stats["auto"] if d["function"].endswith("cpu_work")]
        assert len(decisions) == 1
        # eight calls are past auto's measuring phase: it has routed the function for good
        assert decisions[0]["engine"] in {"thread", "process"}
        assert decisions[0]["reason"]

    asyncio.run(main_())
