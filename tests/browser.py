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
from html import unescape
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
