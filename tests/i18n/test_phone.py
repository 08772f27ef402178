"""The demo's run report and period report in Chromium at a phone's width (390 px, an iPhone
12-15) and a desktop's (1280 px): no horizontal overflow (``scrollWidth <= innerWidth``, and no
box scrolling sideways inside the page) and every clause id drawn whole (on one line) inside the
view, wherever it appears.

Each page is laid out in an ``<iframe>`` of that width (``browser.measure_frames``): headless
Chromium will not size a window below 500 px, but a frame's viewport is the frame, so its media
queries and ``innerWidth`` follow it. The same checks are run on pages broken on purpose (the
phone CSS taken out, a wide table put in): they must find the fault, or the test proves nothing.
All pages are measured in one Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from browser import measure_frames, needs_chromium

pytestmark = needs_chromium

PHONE, DESKTOP = 390, 1280
PHONE_CSS = "@media screen and (max-width: 640px) {"
WIDE_TABLE = ('<table class="injected" style="min-width:900px"><tr><td>'
              + "unbreakable&nbsp;" * 60 + "</td></tr></table>")


def without_phone_css(page: str) -> str:
    """``page`` with every ``@media screen and (max-width: 640px)`` block taken out (the test
    below checks there was one to take)."""
    while (at := page.find(PHONE_CSS)) >= 0:
        depth, end = 0, at
        for end in range(at, len(page)):
            depth += {"{": 1, "}": -1}.get(page[end], 0)
            if page[end] == "}" and depth == 0:
                break
        page = page[:at] + page[end + 1:]
    return page


def with_wide_table(page: str) -> str:
    """``page`` with a 900 px table of one unbreakable line before its first heading."""
    at = page.index("<h2")
    return page[:at] + WIDE_TABLE + page[at:]


def problems(fit: dict[str, Any], width: int) -> list[str]:
    """What is wrong with a page's layout at ``width`` (empty: it fits)."""
    found = []
    if fit["inner"] != width:
        found.append(f"innerWidth {fit['inner']} is not the asked {width}")
    if fit["scroll"] > fit["inner"]:
        found.append(f"scrollWidth {fit['scroll']} > innerWidth {fit['inner']}")
    for box in fit["scrollers"]:
        found.append(f"<{box['tag']} class={box['cls']!r}> scrolls sideways: {box}")
    for clause, places in fit["clauses"].items():
        if not any(p["tag"] != "text" for p in places):
            found.append(f"{clause}: not in the page's text")
        for p in places:
            if not (p["shown"] and p["inside"] and p["lines"] == 1):
                found.append(f"{clause} in <{p['tag']}> hidden, cut or split: {p}")
    return found


@pytest.fixture(scope="module")
def pages(demo_run) -> dict[str, tuple[str, list[str]]]:
    """The run report and the period report of the demo, and the clause ids they must show."""
    out: Path = demo_run.out
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    clauses = [c["clause"] for c in results["commitments"]]
    assert len(clauses) == 8
    return {
        "report": ((out / "report.html").read_text(encoding="utf-8"), clauses),
        "period": (next(out.glob("period-*.html")).read_text(encoding="utf-8"), clauses),
    }


@pytest.fixture(scope="module")
def fits(pages, tmp_path_factory) -> dict[str, dict[str, Any]]:
    """Every page, whole and broken, at the widths below, laid out by one Chromium."""
    asked: dict[str, tuple[str, int, list[str]]] = {}
    for name, (page, clauses) in pages.items():
        for width in (PHONE, DESKTOP):
            asked[f"{name}-{width}"] = (page, width, clauses)
        asked[f"{name}-no-phone-css"] = (without_phone_css(page), PHONE, clauses)
        asked[f"{name}-wide-table"] = (with_wide_table(page), PHONE, clauses)
    return measure_frames(asked, tmp_path_factory.mktemp("phone"))


@pytest.mark.parametrize("width", [PHONE, DESKTOP])
@pytest.mark.parametrize("page", ["report", "period"])
def test_reports_fit_and_show_every_clause(fits, pages, page, width):
    fit = fits[f"{page}-{width}"]
    assert fit["inner"] == width and fit["phone"] is (width == PHONE)
    assert fit["scroll"] <= fit["inner"], (fit["scroll"], fit["inner"])
    assert problems(fit, width) == []
    for clause in pages[page][1]:  # drawn at least in a table and in a heading
        assert sum(p["tag"] != "text" for p in fit["clauses"][clause]) >= 2, clause


@pytest.mark.parametrize(("page", "fault"), [
    ("report", "scrollWidth"),  # the tables push the page wider than the phone
    ("period", "<div class='attain-wrap'> scrolls sideways"),  # its table scrolls in its box
])
def test_the_check_fails_without_the_phone_css(fits, page, fault):
    found = problems(fits[f"{page}-no-phone-css"], PHONE)
    assert any(x.startswith(fault) for x in found), found


@pytest.mark.parametrize("page", ["report", "period"])
def test_the_check_fails_on_a_wide_unbreakable_table(fits, page):
    fit = fits[f"{page}-wide-table"]
    found = problems(fit, PHONE)
    assert any(x.startswith("scrollWidth") for x in found), found


def test_the_broken_pages_are_broken_as_meant(pages):
    page = pages["period"][0]
    assert page.count(PHONE_CSS) == 2 and PHONE_CSS not in without_phone_css(page)
    assert without_phone_css(page).count("<style") == page.count("<style")
    assert re.search(r"@media print", without_phone_css(page))
    assert with_wide_table(page).count('class="injected"') == 1
