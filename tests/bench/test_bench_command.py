"""``unstall bench`` argument errors (exit 2, a clear message), the report formats and the chart."""

from __future__ import annotations

import json
import math
import re
import struct
import sys
from pathlib import Path

import pytest

from unstall._cli import main
from unstall.bench import BenchConfig, BenchResult, Row
from unstall.bench._chart import layout, render_html, render_svg
from unstall.bench._png import write_png
from unstall.bench._report import format_json, format_markdown, format_text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--concurrency", "1,x"], r"argument --concurrency: 'x' in '1,x' is not a whole number"),
        (["--concurrency", "0"], r"'0' in '0' is not a whole number from 1 to 10000"),
        (["--scenarios", "sleep,gpu"], r"unknown scenario 'gpu'; choose from sleep, http, db, cpu"),
        (["--scenarios", ","], r"no scenario given in ','"),
        (["--duration", "-1"], r"'-1' is not a number of seconds between 0 and 3600"),
        (["--duration", "soon"], r"'soon' is not a number of seconds"),
        (["--max-requests", "0"], r"'0' is not a positive whole number"),
        (["--format", "xml"], r"invalid choice: 'xml'"),
        (["--loop", "trio"], r"invalid choice: 'trio'"),
        (["--url", "http://example.com/"], r"host 'example.com', which is not this machine"),
        (["--url", "https://127.0.0.1/"], r"URL 'https://127.0.0.1/' is not an http:// URL"),
        (
            ["--rate", "50,fast"],
            r"argument --rate: 'fast' in '50,fast' is not a number of requests",
        ),
        (["--rate", "0"], r"'0' in '0' is not a number of requests per second from 0 to 100000"),
        (["--rate", "inf"], r"'inf' in 'inf' is not a number of requests per second"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["bench", *args, "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert not (tmp_path / "out").exists()


def _result() -> BenchResult:
    rows = (
        Row("cpu", "inline", 1, 150.0, 6.0, 9.0, 150, 0, 7.0, 8.0, 1, blocks_loop=True),
        Row("cpu", "inline", 16, 180.0, 85.0, 95.0, 180, 0, 60.0, 70.0, 16, blocks_loop=True),
        Row("cpu", "to_process", 1, 140.0, 7.0, 10.0, 140, 0, 2.0, 3.0, 1),
        Row("cpu", "to_process", 16, 330.0, 45.0, 60.0, 330, 2, 2.5, 3.5, 16),
        Row("cpu", "sync server", 1, 100.0, 9.0, 12.0, 100, 0, None, None, 1),
        Row("cpu", "sync server", 16, 160.0, 80.0, math.nan, 160, 0, None, None, 16),
    )
    return BenchResult(
        BenchConfig(scenarios=("cpu",), concurrency=(1, 16), duration=1.0), rows, {"cpus": "2"}
    )


def test_text_markdown_and_json_tables() -> None:
    result = _result()
    text = format_text(result).splitlines()
    assert text[0].startswith("unstall bench: cpus 2, 1 s per measurement")
    assert text[1].split()[:4] == ["scenario", "variant", "concurrency", "req/s"]
    assert text[3].split() == ["cpu", "inline", "1", "150", "6.0", "9.0", "0", "7.0", "8.0"]
    assert text[6].split() == [
        "cpu",
        "to_process",
        "16",
        "330",
        "45.0",
        "60.0",
        "2/330",
        "2.5",
        "3.5",
    ]
    assert text[8].split()[-3:] == ["0", "-", "-"]  # no loop: no lag; NaN p99 shown as '-'
    assert text[8].split()[-4] == "-"
    md = format_markdown(result).splitlines()
    assert (
        md[2]
        == "| scenario | variant | concurrency | req/s | p50 ms | p99 ms | errors | loop lag p99 ms | loop lag max ms |"
    )
    assert md[3].startswith("|---|---|---:|")
    assert md[4] == "| cpu | inline | 1 | 150 | 6.0 | 9.0 | 0 | 7.0 | 8.0 |"
    data = json.loads(format_json(result))
    assert data["config"]["concurrency"] == [1, 16]
    assert data["rows"][5]["p99_ms"] is None
    assert data["rows"][5]["lag_max_ms"] is None
    assert data["rows"][0]["blocks_loop"] is True


def test_chart_has_a_bar_per_variant_level_and_metric() -> None:
    result = _result()
    svg = render_svg(result)
    assert svg.startswith("<svg xmlns='http://www.w3.org/2000/svg'")
    bars = re.findall(r"<title>([^,<]+), (\d+) concurrent: ([^<]+)</title>", svg)
    # req/s and p99 for 3 variants x 2 levels, lag for the 2 async variants x 2 levels; NaN p99 skipped
    assert len(bars) == 6 + 5 + 4
    assert ("to_process", "16", "330 req/s") in bars
    assert ("inline", "16", "70 ms") in bars  # the lag panel
    assert "cpu: ~5 ms of pure-Python CPU" in svg
    # the naive variant is drawn red, the sync server grey
    assert re.search(r"fill='#d62728'><title>inline, 1 concurrent", svg)
    assert re.search(r"fill='#8c8c8c'><title>sync server, 1 concurrent", svg)
    html = render_html(result)
    assert html.count("<tr>") == 1 + 6
    assert "<script" not in html
    assert not re.search(r"(src|href)=", html)  # self-contained: nothing is fetched


def test_a_server_that_cannot_start_is_reported_with_its_output(tmp_path: Path) -> None:
    import asyncio

    from unstall.bench._runner import ServerProcess

    with pytest.raises(RuntimeError, match=r"'nonsense' server did not start") as info:
        asyncio.run(ServerProcess.start("nonsense", log_dir=tmp_path))
    # the child's own error (argparse's) is in the message
    assert "invalid choice: 'nonsense'" in str(info.value)


def _open_result() -> BenchResult:
    rows = (
        Row("sleep", "time.sleep", 64, 49.0, 410.0, 900.0, 50, 0, 800.0, 20.0, 40, True, rate=50.0),
        Row(
            "sleep",
            "time.sleep",
            64,
            50.0,
            2100.0,
            4000.0,
            100,
            0,
            900.0,
            20.0,
            64,
            True,
            rate=100.0,
        ),
        Row("sleep", "asyncio.sleep", 64, 50.0, 21.0, 23.0, 50, 0, 1.0, 2.0, 2, rate=50.0),
        Row("sleep", "asyncio.sleep", 64, 100.0, 21.0, 24.0, 100, 0, 1.0, 2.0, 3, rate=100.0),
    )
    config = BenchConfig(scenarios=("sleep",), concurrency=(64,), rates=(50.0, 100.0), duration=1.0)
    return BenchResult(config, rows, {"cpus": "2"})


def test_an_open_loop_table_and_chart_say_which_load_ran() -> None:
    result = _open_result()
    text = format_text(result).splitlines()
    assert "open loop: requests start on schedule at each rate, on up to 64 connections" in text[0]
    assert "latency counts from each scheduled start" in text[0]
    assert text[1].split()[:5] == ["scenario", "variant", "rate", "req/s", "req/s"]
    assert text[3].split()[:4] == ["sleep", "time.sleep", "50", "49.0"]
    md = format_markdown(result)
    assert "| scenario | variant | rate req/s | req/s |" in md
    assert "open loop" in md.splitlines()[0]
    data = json.loads(format_json(result))
    assert data["mode"] == "open loop"
    assert data["config"]["rates"] == [50.0, 100.0]
    assert [row["rate"] for row in data["rows"]] == [50.0, 100.0, 50.0, 100.0]
    svg = render_svg(result)
    assert re.findall(r"<title>time\.sleep, (\d+) req/s: ", svg) == ["50", "100"] * 3
    assert "open-loop load on 127.0.0.1, latency from each scheduled start" in svg
    assert "open loop" in render_html(result)
    closed = format_text(_result()).splitlines()[0]
    assert "closed loop: each client sends its next request when the last returns" in closed
    assert json.loads(format_json(_result()))["mode"] == "closed loop"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _fake_run(result: BenchResult, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command as it is, with the measurements replaced by ``result``."""

    async def run_bench(config: BenchConfig, progress: object) -> BenchResult:
        return result

    monkeypatch.setattr("unstall.bench._runner.run_bench", run_bench)


@pytest.mark.parametrize("make", [_result, _open_result], ids=["closed", "open"])
def test_the_png_chart_is_written_at_twice_the_svg_size(
    make: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from PIL import Image

    assert callable(make)
    result: BenchResult = make()
    _fake_run(result, monkeypatch)
    out = tmp_path / "out"
    assert main(["bench", "--output", str(out)]) == 0
    err = capsys.readouterr().err
    png = out / "bench.png"
    assert str(png) in err.splitlines()[-1]  # listed with the files written
    assert "warning" not in err
    chart = layout(result)
    assert _png_size(png.read_bytes()) == (chart.width * 2, chart.height * 2)
    svg = (out / "bench.svg").read_text()
    assert f"width='{chart.width}' height='{chart.height}'" in svg
    with Image.open(png) as image:
        image.verify()  # a whole, valid PNG
    with Image.open(png) as image:
        colors = {color for _count, color in image.convert("RGB").getcolors(1 << 20) or ()}
    assert (0xD6, 0x27, 0x28) in colors  # the naive variant's red bars were drawn
    assert (0x22, 0x22, 0x22) in colors  # and text


def test_without_pillow_the_missing_png_is_said_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_run(_result(), monkeypatch)
    monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL now raises ImportError
    out = tmp_path / "out"
    assert main(["bench", "--output", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith(
        f"unstall bench: warning: no PNG chart written to {out / 'bench.png'}"
    )
    assert "Pillow is not installed" in err[-1]
    assert "pip install 'unstall[bench]'" in err[-1]
    assert "bench.png" not in err[-2]  # not among the files written
    assert (out / "bench.svg").exists()
    assert not (out / "bench.png").exists()


def test_a_png_that_cannot_be_saved_is_explained(tmp_path: Path) -> None:
    problem = write_png(_result(), tmp_path / "no-such-folder" / "bench.png")
    assert problem is not None
    assert "No such file or directory" in problem
    assert "no-such-folder" in problem
