"""The demo's period report as headless Chromium lays it out (Debian's `chromium`, installed by
.ci/run): French, and its attainment table fits a laptop screen and an A4 page's width."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest

from clausewatch.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
    "--disable-dev-shm-usage",
]  # fmt: skip
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; .ci/run does)"
)
# Measures the laid-out page and leaves the figures in the DOM for --dump-dom to print.
MEASURE = """<script>
const doc = document.documentElement, table = document.querySelector('main table'),
      main = document.querySelector('main');
document.body.setAttribute('data-fit', JSON.stringify({
  scroll: doc.scrollWidth, client: doc.clientWidth,
  table: table.getBoundingClientRect().right, main: main.getBoundingClientRect().right}));
</script>"""


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "out"
    assert main(["run", "--demo", "--as-of", "2026-11-22T03:00:00Z", "--out", str(out)]) == 3
    return out / "period-2026-10.html"


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def measure(report: Path, tmp_path: Path, width: int) -> dict[str, float]:
    """Lay the report out in a ``width`` px wide window and measure it.

    The report's own policy forbids scripts; the measured copy allows this one inline script
    and is otherwise the report byte for byte."""
    html = report.read_text(encoding="utf-8")
    policy = "default-src 'none';"
    assert html.count(policy) == 1 and "<script" not in html
    html = html.replace(policy, policy + " script-src 'unsafe-inline';")
    copy = tmp_path / "measured.html"
    copy.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    done = chromium(tmp_path, f"--window-size={width},1000", "--dump-dom", copy.as_uri())
    found = re.search(r'data-fit="([^"]*)"', done.stdout)
    assert found, done.stderr[-2000:]
    return json.loads(unescape(found.group(1)))


def test_the_demo_period_report_is_in_french(report):
    html = report.read_text(encoding="utf-8")
    assert '<html lang="fr">' in html
    for heading in ("<h2>Tenue des engagements</h2>", "<h2>Verdict nuit par nuit</h2>",
                    "<h2>Part des éléments conformes, nuit par nuit</h2>",
                    "<h2>Comment ces chiffres sont calculés</h2>", "Pénalités encourues",
                    "Rapport de conformité de la période · octobre 2026"):
        assert heading in html, heading
    assert "Attainment per commitment" not in html and "Nights in compliance" not in html


@needs_chromium
@pytest.mark.parametrize(
    "width",
    [
        1280,  # a laptop screen
        766,  # narrower than an A4 page's printable width (188 mm, about 710 px) once the
        # screen layout's scroll bar and padding are taken off: 695 px of content
    ],
)
def test_the_attainment_table_fits_the_width(report, tmp_path, width):
    fit = measure(report, tmp_path, width)
    assert fit["scroll"] <= fit["client"], fit  # no horizontal scroll bar on the page
    assert fit["table"] <= fit["main"] + 0.5, fit  # no column sticks out of the page


@needs_chromium
def test_prints_on_a4(report, tmp_path):
    pdf = tmp_path / "period.pdf"
    done = chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", report.as_uri())
    assert pdf.exists(), done.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page") >= 2
    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert box and (round(float(box[1])), round(float(box[2]))) == (595, 842)  # A4 in points
