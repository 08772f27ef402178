"""The demo's period report as headless Chromium lays it out (Debian's `chromium`, installed by
.ci/run): French, and its attainment table fits a laptop screen and an A4 page's width."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser import chromium, measure, needs_chromium


@pytest.fixture(scope="module")
def report(demo_run) -> Path:
    assert demo_run.code == 3
    return demo_run.out / "period-2026-10.html"


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
