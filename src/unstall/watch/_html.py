"""The HTML report: one self-contained file (inline CSS, SVG and a little script; no network).

It shows the loop-lag timeline, the HTTP routes and the stall sites ranked by stalled time
(each site with its source excerpt, example stack and fix), a flame graph of the stacks
sampled during stalls, the tripwire's blocking calls, the last stalls and the loops.
Everything that comes from the program is escaped; a Content-Security-Policy allows only the
page's own style and script (by hash) and no fetch at all, so markup in a name can neither run
nor load anything.
"""

from __future__ import annotations

import base64
import hashlib
import linecache
import time
from collections.abc import Sequence

from unstall.watch._html_charts import esc, flame_svg, share_bar, timeline_svg
from unstall.watch._model import Frame, StallEvent, TripwireEvent
from unstall.watch._report import Report, SiteStats, site_key
from unstall.watch._timeline import LagPoint
from unstall.watch._watcher import Watcher

__all__ = ("html_page", "render_html")

_CSS = """
:root{color-scheme:light;--fg:#1d232b;--muted:#5b6673;--line:#d8dde3;--bg:#f6f7f9;--accent:#c2410c}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#1d232b;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#c9d1da}
main{padding:8px 28px 40px;max-width:1200px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 18px;margin:16px 0}
h2{font-size:17px;margin:0 0 10px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.03em}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code,pre{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f3f4f6;border-radius:6px;padding:8px 10px;overflow-x:auto;margin:6px 0}
.hl{background:#fde7d9;display:block}
details{border-bottom:1px solid var(--line);padding:6px 0}
details.outer{border:0;padding:0}details.outer summary{display:list-item}
ol{margin:4px 0;padding-left:28px}
summary{cursor:pointer;display:flex;gap:14px;align-items:baseline}
summary .where{flex:1;font-family:ui-monospace,monospace;overflow-wrap:anywhere}
.fix{border-left:3px solid var(--accent);padding:4px 10px;background:#fff7ed;margin:6px 0}
.muted,.empty{color:var(--muted)}
.tag{display:inline-block;padding:0 6px;border-radius:4px;font-size:12px;background:#eef2f6}
.tag.cpu{background:#fde68a}.tag.blocked{background:#bfdbfe}.tag.gc{background:#ddd6fe}
svg.timeline{width:100%;height:auto}
svg .grid{stroke:#eceff3}svg .axis{font-size:11px;fill:var(--muted)}
svg .lag-max{fill:none;stroke:#ea580c;stroke-width:1.5}
svg .lag-mean{fill:none;stroke:#2563eb;stroke-width:1}
svg .threshold{stroke:#dc2626;stroke-dasharray:5 4}
svg .stall{fill:#dc262633;stroke:#dc2626}
svg.bar{width:100px;height:10px}.bar .cpu{fill:#f59e0b}.bar .blocked{fill:#3b82f6}.bar .gc{fill:#8b5cf6}
svg.flame{width:100%;height:auto;font-size:11px}
svg.flame g{cursor:pointer}svg.flame text{pointer-events:none;fill:#111}
svg.flame g:hover rect{stroke:#111;stroke-width:.5}
.legend span{margin-right:14px}
footer{color:var(--muted);padding:0 28px 24px}
"""

# Flame graph zoom: a click on a frame widens it to the whole width; a click on the root resets.
_JS = """
(function(){
  var svg=document.getElementById('flame');
  if(!svg){return;}
  var W=parseFloat(svg.getAttribute('data-width'));
  var frames=Array.prototype.slice.call(svg.querySelectorAll('g.f'));
  function zoom(x0,w){
    frames.forEach(function(g){
      var x=parseFloat(g.getAttribute('data-x')),gw=parseFloat(g.getAttribute('data-w'));
      var r=g.querySelector('rect'),t=g.querySelector('text');
      var inside=x>=x0-1e-9&&x+gw<=x0+w+1e-9;
      var nx=inside?(x-x0)/w*W:0,nw=inside?gw/w*W:0;
      if(!inside&&gw>=w){nx=0;nw=W;inside=true;}
      g.style.display=inside?'':'none';
      r.setAttribute('x',nx.toFixed(2));r.setAttribute('width',nw.toFixed(2));
      t.setAttribute('x',(nx+3).toFixed(2));
      var name=g.getAttribute('data-n')||'',chars=Math.floor(nw/7);
      t.textContent=name.length<=chars?name:(chars>2?name.slice(0,chars-1)+'\\u2026':'');
    });
  }
  frames.forEach(function(g){
    g.addEventListener('click',function(){
      zoom(parseFloat(g.getAttribute('data-x')),parseFloat(g.getAttribute('data-w')));
    });
  });
})();
"""


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:,.0f} ms" if ms >= 100 else f"{ms:.1f} ms"


def _frame_line(f: Frame) -> str:
    source = f' <span class="muted">{esc(f.source)}</span>' if f.source else ""
    return f"{esc(f.filename)}:{f.lineno} in <b>{esc(f.function)}</b>{source}"


def _excerpt(frame: Frame | None, around: int = 3) -> str:
    """The source lines around ``frame``'s line (read now from the file), the line itself marked."""
    if frame is None or not frame.filename or frame.lineno <= 0:
        return ""
    rows = []
    for n in range(max(1, frame.lineno - around), frame.lineno + around + 1):
        line = linecache.getline(frame.filename, n)
        if not line and n > frame.lineno:
            break
        text = esc(f"{n:>5}  {line.rstrip()[:200]}")
        rows.append(f'<span class="hl">{text}</span>' if n == frame.lineno else text + "\n")
    return f"<pre>{''.join(rows)}</pre>" if rows else ""


def _stack(frames: Sequence[Frame], shown: int = 6) -> str:
    """The stack, innermost frames shown and the outer ones folded (outermost first)."""
    if not frames:
        return ""
    outer, inner = frames[:-shown], frames[-shown:]
    folded = ""
    if outer:
        items = "".join(f"<li>{_frame_line(f)}</li>" for f in outer)
        folded = (
            f'<details class="outer"><summary class="muted">{len(outer)} outer frame(s)</summary>'
            f"<ol>{items}</ol></details>"
        )
    items = "".join(f"<li>{_frame_line(f)}</li>" for f in inner)
    return f'{folded}<ol class="stack" start="{len(outer) + 1}">{items}</ol>'


def _routes(report: Report) -> str:
    if not report.routes:
        return (
            '<p class="empty">No stall or blocking call happened in an HTTP request named by a '
            "middleware (see unstall.integrations).</p>"
        )
    rows = "".join(
        f'<tr><td><span class="tag">{esc(r.method)}</span> <code>{esc(r.route)}</code></td>'
        f'<td class="n">{r.stalls}</td><td class="n">{_ms(r.total)}</td><td class="n">{_ms(r.p99)}</td>'
        f'<td class="n">{_ms(r.max)}</td><td class="n">{r.blocking_calls}</td>'
        f"<td><code>{esc(r.top_site or '')}</code></td></tr>"
        for r in report.routes
    )
    return (
        "<table><thead><tr><th>route</th><th>stalls</th><th>total</th><th>p99</th><th>max</th>"
        f"<th>blocking calls</th><th>mostly at</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _blamed(site: SiteStats, events: Sequence[StallEvent]) -> Frame | None:
    for e in reversed(events):
        if e.blamed is not None and site_key(e) == site.location:
            return e.blamed
    return site.example[-1] if site.example else None


def _sites(report: Report, events: Sequence[StallEvent]) -> str:
    if not report.sites:
        return '<p class="empty">No stall so far.</p>'
    out = []
    for i, s in enumerate(report.sites):
        blamed = _blamed(s, events)
        fix = f' <span class="muted">[{esc(s.code)}]</span>' if s.code else ""
        offender = f"<p>blocked in <code>{esc(s.offender)}</code></p>" if s.offender else ""
        out.append(
            f"<details{' open' if i < 3 else ''}><summary>"
            f'<span class="where">{esc(s.location)}</span>'
            f'<span class="n">{s.count} stall(s)</span><span class="n">{_ms(s.total)} total</span>'
            f'<span class="n">max {_ms(s.max)}</span>{share_bar(s.cpu_share, s.blocked_share, s.gc_share)}'
            "</summary>"
            f'<div class="fix">fix: {esc(s.fix or "no suggestion")}{fix}</div>{offender}'
            f"{_excerpt(blamed)}{_stack(s.example)}</details>"
        )
    return "".join(out)


def _calls(calls: Sequence[TripwireEvent]) -> str:
    if not calls:
        return '<p class="empty">None caught (the tripwire is on with <code>--tripwire</code>).</p>'
    rows = []
    for c in list(calls)[-100:]:
        where = f"{c.blamed.filename}:{c.blamed.lineno} ({c.blamed.function})" if c.blamed else "?"
        took = _ms(c.duration) if c.duration is not None else ""
        route = f"{c.method} {c.route}" if c.route else ""
        rows.append(
            f"<tr><td><code>{esc(c.code)}</code></td><td><code>{esc(c.name)}</code></td>"
            f'<td><code>{esc(where)}</code></td><td><code>{esc(route)}</code></td><td class="n">{took}</td>'
            f"<td>{esc(c.fix or '')}</td></tr>"
        )
    return (
        "<table><thead><tr><th>rule</th><th>call</th><th>at</th><th>route</th><th>took</th>"
        f"<th>fix</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _recent(events: Sequence[StallEvent]) -> str:
    if not events:
        return '<p class="empty">No stall so far.</p>'
    rows = []
    for e in list(events)[-30:][::-1]:
        task = f"{e.task.name} ({e.task.coroutine})" if e.task else ""
        route = f"{e.method} {e.route}" if e.route else ""
        rows.append(
            f"<tr><td>{time.strftime('%H:%M:%S', time.localtime(e.start))}</td>"
            f'<td class="n">{_ms(e.duration)}</td><td><span class="tag {esc(e.cause.value)}">'
            f"{esc(e.cause.value)}</span></td><td><code>{esc(route)}</code></td>"
            f"<td><code>{esc(site_key(e))}</code></td><td><code>{esc(task)}</code></td></tr>"
        )
    return (
        "<table><thead><tr><th>at</th><th>took</th><th>cause</th><th>route</th><th>site</th>"
        f"<th>task</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _loops(report: Report) -> str:
    rows = []
    for lp in report.loops:
        lag = lp.lag
        util = f"{lp.utilization:.1%}" if lp.timed else "n/a"
        lag_cells = (
            f'<td class="n">{lag.count}</td><td class="n">{_ms(lag.p50)}</td>'
            f'<td class="n">{_ms(lag.p99)}</td><td class="n">{_ms(lag.max)}</td>'
            if lag is not None
            else '<td class="n">0</td><td></td><td></td><td></td>'
        )
        rows.append(
            f"<tr><td><code>{esc(lp.thread_name)}</code></td><td>{esc(lp.mode)}"
            f'{" (closed)" if lp.closed else ""}</td>{lag_cells}<td class="n">{util}</td></tr>'
        )
    return (
        "<table><thead><tr><th>loop thread</th><th>timing</th><th>heartbeats</th><th>lag p50</th>"
        f"<th>lag p99</th><th>lag max</th><th>utilization</th></tr></thead><tbody>{''.join(rows)}"
        "</tbody></table>"
    )


def html_page(
    report: Report,
    events: Sequence[StallEvent],
    timeline: Sequence[LagPoint],
    calls: Sequence[TripwireEvent] = (),
    *,
    generated: float | None = None,
) -> str:
    """The report page from plain data: ``events`` feed the flame graph and the timeline's markers."""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(generated or time.time()))
    stalled = sum(s.total for s in report.sites)
    csp = (
        f"default-src 'none'; style-src {_hash(_CSS)}; script-src {_hash(_JS)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>unstall report</title><style>{_CSS}</style></head>
<body><header><h1>unstall: what stalled the event loop</h1>
<p>{report.stalls} stall(s) at {len(report.sites)} site(s), {_ms(stalled)} stalled in all;
threshold {_ms(report.threshold)}; {len(report.blocking_calls)} blocking call(s) caught; generated {esc(when)}</p></header>
<main>
<section id="timeline"><h2>Loop lag over time</h2>
<p class="legend muted"><span>orange: worst heartbeat lag per interval</span><span>blue: mean</span>
<span>dashed: threshold</span><span>red: a stall (hover for its site)</span></p>
{timeline_svg(timeline, events, report.threshold)}</section>
<section id="routes"><h2>Routes by stalled time</h2>{_routes(report)}</section>
<section id="sites"><h2>Stall sites by stalled time</h2>{_sites(report, events)}</section>
<section id="where"><h2>Where the stalled time went</h2>
<p class="muted">The stacks sampled while the loop was stalled, each stall's time shared by its
samples (root on top; warm: your code, cool: libraries). Click a frame to zoom, the top bar to reset.</p>
{flame_svg(events)}</section>
<section id="calls"><h2>Blocking calls on the loop</h2>{_calls(calls)}</section>
<section id="recent"><h2>Last stalls</h2>{_recent(events)}</section>
<section id="loops"><h2>Loops</h2>{_loops(report)}</section>
</main><footer>unstall: the report holds names, lines and durations only, never a value of the program.</footer>
<script>{_JS}</script></body></html>
"""


def render_html(watcher: Watcher) -> str:
    """The HTML report of ``watcher`` as one self-contained page (UTF-8 text); safe from any thread."""
    return html_page(
        watcher.report(), list(watcher.events), watcher.timeline(), list(watcher.blocking_calls)
    )
