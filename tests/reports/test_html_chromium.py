"""The HTML report as a browser renders it: headless Chromium (Debian's `chromium` package,
installed by .ci/run), screenshot, printed PDF, and the page's text."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import chromium, measure, needs_chromium
from report_case import render

pytestmark = needs_chromium


@pytest.fixture
def page(case, tmp_path) -> Path:
    path = tmp_path / "report.html"
    path.write_text(render("html", case.ev, case.info), encoding="utf-8")
    return path


@pytest.mark.parametrize("width", [1280, 1024])
def test_the_report_fits_the_window_and_shows_every_clause(page, tmp_path, case, width):
    fit = measure(page, tmp_path, width)
    assert fit["scroll"] <= fit["client"], fit  # no horizontal scroll bar
    for outcome in case.ev.outcomes:
        assert fit["visible"].get(outcome.commitment.id), outcome.commitment.id


def test_screenshot_and_print(page, tmp_path):
    shot = tmp_path / "report.png"
    done = chromium(tmp_path, "--window-size=1280,1800", f"--screenshot={shot}", page.as_uri())
    assert shot.exists(), done.stderr[-2000:]
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000  # a real, non-blank page
    pdf = tmp_path / "report.pdf"
    done = chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    assert pdf.exists(), done.stderr[-2000:]
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.read_bytes().count(b"/Type /Page") >= 2


def test_rendered_text_is_the_report_in_french(page, tmp_path, case):
    done = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    for text in (
        case.ev.contract.title,
        "Rapport de conformité contractuelle",
        "Non conforme", "À risque", "Sans preuve", "Dérogation",
        "bob@client.test", "ListBackupJobs", "DER-1", "expire dans 18&nbsp;j",
        "Ancienneté des correctifs de sécurité en attente",
    ):  # fmt: skip
        assert text in dom, text
    assert "<svg" in dom and "<script" not in dom
