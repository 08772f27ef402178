"""The demo's run report and period report in Chromium at a phone's and a desktop's width: no
horizontal overflow, every clause id visible."""

from __future__ import annotations

import json

import pytest
from browser import measure, needs_chromium

pytestmark = needs_chromium


# Headless Chromium will not lay a window out narrower than 500 px (asked 390, it gives 500);
# the phone layout (cards) starts at 640 px, so 500 exercises it.
@pytest.mark.parametrize("width", [500, 1280])
@pytest.mark.parametrize("page", ["report.html", "period"])
def test_reports_fit_the_window(demo_run, tmp_path, width, page):
    out = demo_run.out
    path = out / page if page.endswith(".html") else next(out.glob("period-*.html"))
    fit = measure(path, tmp_path, width)
    assert fit["inner"] == width, fit["inner"]
    assert fit["scroll"] <= fit["inner"], (fit["scroll"], fit["inner"])
    if page == "report.html":
        results = json.loads((out / "results.json").read_text(encoding="utf-8"))
        for c in results["commitments"]:
            assert fit["visible"].get(c["id"]), c["id"]  # each clause section lies in view
    else:
        text = path.read_text(encoding="utf-8")
        assert text.count('class="subject-id mono"') >= 8
