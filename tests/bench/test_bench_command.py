"""``unstall bench`` argument errors (exit 2, a clear message), the report formats and the chart."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from unstall._cli import main
from unstall.bench import BenchConfig, BenchResult, Row
from unstall.bench._chart import render_html, render_svg
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
