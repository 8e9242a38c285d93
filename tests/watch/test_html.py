"""The HTML report: its parts, and escaping of everything that comes from the program.

The browser tests load the page in a real headless Chromium (Debian's ``chromium``; CI installs
it) and prove that it loads with no console error, that markup in names does not execute, and
that the flame graph zooms.
"""

from __future__ import annotations

import asyncio
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from tests.waiting import wait_until
from tests.watch.browser import Browser

from unstall.watch import (
    Cause,
    Frame,
    LagPoint,
    Report,
    RouteStats,
    SiteStats,
    StallEvent,
    TaskInfo,
    TripwireEvent,
    render_html,
    watch,
)
from unstall.watch._html import html_page

EVIL = [
    "<script>window.__pwned=1</script>",
    '"onerror=window.__pwned=2 x="',
    '</style><img src=x onerror="window.__pwned=3">',
    "</script><script>window.__pwned=4</script>",
    "<svg onload=window.__pwned=5>",
    "javascript:window.__pwned=6",
    "<!--",
    "]]></title><a href=x>",
]
CHROMIUM = Browser.find()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"
)


class Tags(HTMLParser):
    """Every element and attribute name in a page, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        self.attributes.extend(attrs)


def hostile_page(tmp_path: Path) -> str:
    """A report whose every program-given text carries markup, with a real source file to excerpt."""
    source = tmp_path / "<img src=x onerror=window.__pwned=9>.py"  # no slash in a file name
    source.write_text(
        "import time\n\n"
        f"def handler():  # {EVIL[2]}\n"
        f"    time.sleep(0.2)  # {EVIL[3]}\n"
        f"    return '{EVIL[4]}'\n"
    )
    blamed = Frame(str(source), 4, EVIL[1], EVIL[5], f"time.sleep(0.2)  # {EVIL[3]}")
    outer = Frame(f"/srv/{EVIL[6]}.py", 10, EVIL[7], "srv", EVIL[2])
    stacks = ((outer, blamed), (outer, Frame("x.py", 1, EVIL[4])))
    now = time.time()
    event = StallEvent(
        now - 5,
        0.25,
        0.1,
        Cause.BLOCKED,
        blamed,
        offender=Frame("<C>", 0, EVIL[0], EVIL[4]),
        stacks=stacks,
        task=TaskInfo(EVIL[4], EVIL[0], (EVIL[1],)),
        code="UNS101",
        fix=f"use {EVIL[2]}",
        method="GET",
        route=f"/items/{EVIL[3]}",
        stack_counts=(3, 1),
    )
    site = SiteStats(
        f"{source}:4 ({EVIL[1]})",
        1,
        0.25,
        0.25,
        0.25,
        0.0,
        1.0,
        0.0,
        f"fix {EVIL[0]}",
        "UNS101",
        stacks[0],
        offender=EVIL[2],
    )
    route = RouteStats("GET", event.route, 1, 0.25, 0.25, 0.25, 1, site.location)
    call = TripwireEvent(
        EVIL[0],
        "UNS101",
        "sleep",
        EVIL[2],
        blamed,
        duration=0.001,
        fix=EVIL[3],
        method="GET",
        route=event.route,
    )
    report = Report((site,), (), 1, (call,), 0, 0.1, (event,), (route,))
    points = [LagPoint(now - 8 + i, 1.0, 80, 0.001 * (i + 1), 0.0005) for i in range(6)]
    return html_page(report, [event], points, [call])


def test_program_text_is_escaped_everywhere(tmp_path: Path) -> None:
    page = hostile_page(tmp_path)
    assert page.count("<script") == 1  # the page's own
    assert page.count("</style>") == 1
    assert "<img" not in page
    assert "<svg onload" not in page
    assert "<a href" not in page
    tags = Tags()
    tags.feed(page)
    assert {name for name, _ in tags.attributes if name.startswith("on")} == set()
    assert tags.names <= {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "header",
        "h1",
        "h2",
        "p",
        "main",
        "section",
        "svg",
        "line",
        "text",
        "polyline",
        "rect",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "span",
        "code",
        "details",
        "summary",
        "div",
        "pre",
        "ol",
        "li",
        "b",
        "g",
        "footer",
        "script",
    }
    for text in EVIL[:5]:
        assert text not in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    assert "Content-Security-Policy" in page
    assert "default-src 'none'" in page


def test_the_page_has_every_part(tmp_path: Path) -> None:
    page = hostile_page(tmp_path)
    for section in ("timeline", "routes", "sites", "where", "calls", "recent", "loops"):
        assert f'<section id="{section}">' in page
    assert 'class="stall"' in page  # the stall on the timeline
    assert 'class="lag-max"' in page
    assert 'id="flame"' in page
    assert page.count('<g class="f"') >= 4  # root, the outer frame and the two leaves
    assert "time.sleep(0.2)" in page  # the source excerpt, read from the file
    assert '<span class="hl">' in page
    assert "http" not in re.sub(r"(https?://www\.w3\.org[^\"]*)", "", page).replace(
        "http-equiv", ""
    )  # nothing to fetch


def test_an_empty_watcher_renders(tmp_path: Path) -> None:
    page = html_page(Report((), (), 0), [], [], [])
    assert "No stall so far." in page
    assert "No heartbeat was recorded yet." in page


def real_watcher_page() -> str:
    async def main() -> None:
        await asyncio.sleep(0.3)
        time.sleep(0.25)  # a real stall, sampled
        await asyncio.sleep(0.2)

    w = watch(threshold_ms=100, log=False)
    asyncio.run(main())
    assert wait_until(lambda: w.stalls >= 1)
    w.stop()
    return render_html(w)


@needs_chromium
def test_the_page_loads_in_chromium_and_markup_does_not_run(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    page = tmp_path / "report.html"
    page.write_text(hostile_page(tmp_path), encoding="utf-8")
    with Browser(CHROMIUM) as browser:
        browser.open(page.as_uri())
        assert browser.errors() == []
        assert browser.evaluate("typeof window.__pwned") == "undefined"
        assert browser.evaluate("document.scripts.length") == 1
        assert browser.evaluate("document.querySelectorAll('img, a, iframe, object').length") == 0
        text: Any = browser.evaluate("document.body.innerText")
        for shown in (EVIL[0], EVIL[3], "/items/"):
            assert shown in text  # shown as text
        # the flame graph zooms: a click on a frame widens it to the whole width
        width = browser.evaluate(
            "(function(){var g=document.querySelectorAll('#flame g.f')[2];"
            "g.dispatchEvent(new MouseEvent('click'));"
            "return parseFloat(g.querySelector('rect').getAttribute('width'));})()"
        )
        assert width == pytest.approx(1000, abs=0.01)
        shot = browser.screenshot(tmp_path / "hostile.png")
        assert browser.errors() == []
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"


@needs_chromium
def test_a_real_report_loads_with_no_console_error_and_a_screenshot(tmp_path: Path) -> None:
    assert CHROMIUM is not None
    page = tmp_path / "report.html"
    page.write_text(real_watcher_page(), encoding="utf-8")
    with Browser(CHROMIUM) as browser:
        browser.open(page.as_uri())
        assert browser.evaluate("document.querySelectorAll('#sites > details').length") == 1
        assert browser.evaluate("document.querySelectorAll('#timeline rect.stall').length") == 1
        shot = browser.screenshot(tmp_path / "report.png")
        assert browser.errors() == []
    from PIL import Image

    with Image.open(tmp_path / "report.png") as image:
        assert image.size == (1280, 1800)
        colors = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colors is not None
    assert len(colors) > 50  # a rendered page, not a blank one
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"
