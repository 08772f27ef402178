"""Headless Chromium for the report tests (Debian's ``chromium``, installed by .ci/run).

``measure`` lays a report out at a given window width and reads layout facts back from the DOM:
the report's own policy forbids scripts, so the measured copy allows one inline script and is
otherwise the report byte for byte.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html import escape, unescape
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
    "--disable-dev-shm-usage", "--no-pdf-header-footer",
]  # fmt: skip
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run does)"
)
# Leaves the layout figures in the DOM for --dump-dom to print. ``ids``: every element with an
# id (clause sections, rows), whether it lies inside the viewport's width and is not clipped.
MEASURE = """<script>
const doc = document.documentElement, main = document.querySelector('main');
const table = document.querySelector('main table');
const visible = {};
for (const el of document.querySelectorAll('[id]')) {
  const r = el.getBoundingClientRect();
  visible[el.id] = r.width > 0 && r.left >= -0.5 && r.right <= doc.clientWidth + 0.5;
}
document.body.setAttribute('data-fit', JSON.stringify({
  scroll: doc.scrollWidth, client: doc.clientWidth, inner: window.innerWidth,
  table: table ? table.getBoundingClientRect().right : 0,
  main: main ? main.getBoundingClientRect().right : 0, visible: visible}));
</script>"""


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def measure(report: Path, tmp_path: Path, width: int) -> dict[str, Any]:
    """Lay ``report`` out in a ``width`` px wide window and return its layout facts."""
    html = report.read_text(encoding="utf-8")
    policy = "default-src 'none';"
    assert html.count(policy) == 1 and "<script" not in html
    html = html.replace(policy, policy + " script-src 'unsafe-inline';")
    copy = tmp_path / f"measured-{width}.html"
    copy.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    done = chromium(tmp_path, f"--window-size={width},1000", "--dump-dom", copy.as_uri())
    found = re.search(r'data-fit="([^"]*)"', done.stdout)
    assert found, done.stderr[-2000:]
    fit: dict[str, Any] = json.loads(unescape(found.group(1)))
    return fit


# Lays each page out in an <iframe srcdoc> of the asked width: a frame's viewport is its own
# box, so its media queries and innerWidth follow the frame (headless Chromium will not size a
# window below 500 px, and its device-metrics override has crashed the renderer). The pages are
# the reports byte for byte (no script in them): the outer page measures them, once loaded.
# Per frame: scrollWidth, clientWidth and innerWidth of the frame's document, whether its phone
# media query matched, and for each needle (a clause id) every place its text is drawn (SVG
# <title> tooltips, styles and scripts excepted): shown (a non-empty box), inside (within
# 0..clientWidth and not clipped by a scrolling or hidden-overflow ancestor) and on how many
# lines; and every box (outside SVG) whose content overflows it sideways (a table that scrolls
# inside its wrapper fits the page but not the reader).
FRAMES = """<script>
const NEEDLES = JSON.parse(document.getElementById('needles').textContent);
function clipped(el, r) {
  for (let a = el; a && a.nodeType === 1; a = a.parentElement) {
    const s = a.ownerDocument.defaultView.getComputedStyle(a);
    if (s.overflowX !== 'visible') {
      const b = a.getBoundingClientRect();
      if (r.left < b.left - 0.5 || r.right > b.right + 0.5) return true;
    }
  }
  return false;
}
function places(d, text, client) {
  const found = [], walk = d.createTreeWalker(d.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const el = n.parentElement;
    if (el.closest('title, style, script')) continue;
    for (let at = n.data.indexOf(text); at >= 0; at = n.data.indexOf(text, at + 1)) {
      const range = d.createRange();
      range.setStart(n, at);
      range.setEnd(n, at + text.length);
      const r = range.getBoundingClientRect();
      const lines = new Set(Array.from(range.getClientRects(), x => Math.round(x.top))).size;
      found.push({tag: el.tagName.toLowerCase(), left: r.left, right: r.right, lines: lines,
                  shown: r.width > 0 && r.height > 0,
                  inside: r.left >= -0.5 && r.right <= client + 0.5 && !clipped(el, r)});
    }
  }
  return found;
}
window.addEventListener('load', () => {
  const out = {};
  for (const f of document.querySelectorAll('iframe')) {
    const d = f.contentDocument, w = f.contentWindow, doc = d.documentElement;
    const clauses = {};
    for (const text of NEEDLES[f.id] || []) clauses[text] = places(d, text, doc.clientWidth);
    const scrollers = [];  // boxes whose content is wider than they are (scrolled or cut)
    for (const el of d.body.querySelectorAll('*')) {
      if (el.closest('svg')) continue;
      const s = w.getComputedStyle(el);
      if (s.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1)
        scrollers.push({tag: el.tagName.toLowerCase(), cls: el.className,
                        scroll: el.scrollWidth, client: el.clientWidth});
    }
    out[f.id] = {scroll: doc.scrollWidth, client: doc.clientWidth, inner: w.innerWidth,
                 phone: w.matchMedia('screen and (max-width: 640px)').matches,
                 clauses: clauses, scrollers: scrollers};
  }
  document.body.setAttribute('data-fit', JSON.stringify(out));
});
</script>"""


def measure_frames(
    pages: dict[str, tuple[str, int, list[str]]], tmp_path: Path, height: int = 800
) -> dict[str, dict[str, Any]]:
    """Lay every page out in one Chromium: ``pages`` maps a name to (HTML, frame width in px,
    texts to find); returns each page's layout facts (see :data:`FRAMES`)."""
    frames = "".join(
        f'<iframe id="{name}" style="display:block;border:0;width:{width}px;height:{height}px"'
        f' srcdoc="{escape(page, quote=True)}"></iframe>'
        for name, (page, width, _) in pages.items())
    needles = json.dumps({name: texts for name, (_, _, texts) in pages.items()}).replace(
        "</", "<\\/")
    outer = tmp_path / "frames.html"
    outer.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>frames</title></head>'
        f'<body style="margin:0"><script type="application/json" id="needles">'
        f'{needles}</script>{frames}{FRAMES}</body></html>',
        encoding="utf-8")
    widest = max(width for _, width, _ in pages.values())
    done = chromium(tmp_path, f"--window-size={widest + 100},1000", "--dump-dom", outer.as_uri())
    found = re.search(r'data-fit="([^"]*)"', done.stdout)
    assert found, done.stderr[-2000:]
    fits: dict[str, dict[str, Any]] = json.loads(unescape(found.group(1)))
    return fits
