"""The terminal summary: fits 80 and 120 columns, never splits a status, a clause id or a figure,
bounds the offenders, colours only when asked, ``--quiet`` prints the overall line alone, and
speaks the contract's language (the demo's French contract: French words, plurals, figures and
typography)."""

from __future__ import annotations

import dataclasses
import io
import re

import pytest
from french_text import SINGULAR_PLURAL, demo_data, english, typography, unwrap
from report_case import AS_OF, build_case
from rich.cells import cell_len
from rich.console import Console

from clausewatch.checks import CHECKS
from clausewatch.checks.engine import evaluate
from clausewatch.core.evaluation import Evaluation
from clausewatch.core.evidence import CollectionError
from clausewatch.core.result import Status, is_offender
from clausewatch.demo.contract import demo_contract_text
from clausewatch.demo.estate import build_estate
from clausewatch.policies.load import load_contract
from clausewatch.reports import terminal

ESC = "\x1b["
HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title>"
    "<style>body{font:12px}</style></head>\n<body><h1>Service Unavailable</h1>\n"
    "<p>The server is temporarily unable to service your request.</p>\n"
    + "<p>padding</p>\n" * 200 + "</body></html>"
)


@pytest.fixture(scope="module")
def demo() -> Evaluation:
    contract = load_contract("contract.yaml", CHECKS,
                             raw=demo_contract_text(AS_OF.date()).encode("utf-8"))
    estate = build_estate(AS_OF)
    return evaluate(contract, estate.evidence, estate.errors, AS_OF)


@pytest.fixture(scope="module")
def stressed() -> Evaluation:
    """The report case with a long clause id, a long title and an HTML error page."""
    case = build_case()
    ev = case.ev
    long = dataclasses.replace(
        ev.outcomes[0],
        commitment=dataclasses.replace(
            ev.outcomes[0].commitment,
            clause="Schedule 3 Annex B §4.2.1(a)(iii)",
            title="A commitment title long enough to never fit on the clause line " * 2,
        ),
    )
    html_error = CollectionError(source="veeam", origin="veeam/vbr-01", kinds=("backup",),
                                 message=HTML_PAGE, operation="GET /api/v1/sessions",
                                 details={"status": 503})
    return dataclasses.replace(ev, outcomes=(long, *ev.outcomes[1:]),
                               errors=(*ev.errors, html_error))


EN, FR = terminal.Words.of("en"), terminal.Words.of("fr")


def render(ev: Evaluation, width: int, lang: str | None = None, quiet: bool = False) -> \
        list[str]:
    out = io.StringIO()
    terminal.render(ev, Console(width=width, file=out, color_system=None), quiet=quiet,
                    lang=lang)
    return out.getvalue().splitlines()


def whole_on_one_line(lines: list[str], *pieces: str) -> bool:
    return any(all(p in line for p in pieces) for line in lines)


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("which", ["demo", "stressed"])
def test_every_line_fits_and_every_figure_is_whole(which, width, lang, request):
    ev = request.getfixturevalue(which)
    w = terminal.Words.of(lang)
    lines = render(ev, width, lang)
    too_wide = [line for line in lines if cell_len(line) > width]
    assert not too_wide
    for o in ev.outcomes:
        label = w.label[o.verdict.status]
        clause = o.commitment.clause
        measured = terminal.measured_text(o, w)
        # the clause's line: its status, its id and its measured/target figure, whole, together
        line = next(x for x in lines if x.startswith(label) and clause in x)
        assert measured in line
        for count in terminal.count_atoms(o, w):  # "14 ok," "2 breached": each whole on a line
            assert whole_on_one_line(lines, count)
    overall = w.cat.t("summary_overall") + " " + w.label[ev.status]
    assert any(x.startswith(overall) for x in lines[-2:])


@pytest.mark.parametrize("w", [EN, FR], ids=["en", "fr"])
def test_one_line_per_clause_at_80_columns_on_the_demo(demo, w):
    lines = render(demo, 80, w.cat.lang)
    starts = tuple(w.label.values())
    clause_lines = [x for x in lines if x.startswith(starts)]
    assert len(clause_lines) == len(demo.outcomes) == 8
    assert len(lines) < 70  # was 255 with the table


@pytest.mark.parametrize("w", [EN, FR], ids=["en", "fr"])
def test_offenders_are_bounded_with_the_rest_counted(demo, w):
    lines = render(demo, 80, w.cat.lang)
    for o in demo.outcomes:
        offenders = sum(1 for r in o.results if is_offender(r.status))
        hidden = offenders - min(offenders, terminal.OFFENDERS_SHOWN)
        more = "    " + w.cat.count("summary_more", hidden)
        assert (more in lines) == (hidden > 0), o.commitment.clause
    worst = demo.outcomes[0].worst(1)[0]
    assert whole_on_one_line(lines, w.label[worst.status].lower(),
                             w.cat.reason(worst).split(" ")[0])
    assert ("    ... and 10 more" in lines) is (w is EN)
    assert ("    … et 10 autres" in lines) is (w is FR)


def test_the_title_shows_when_it_fits_whole(demo):
    narrow, wide = render(demo, 80), render(demo, 160)
    title = demo.outcomes[0].commitment.title
    assert not any(title in x for x in narrow)
    assert any(title in x for x in wide)
    assert all(title[:20] not in x or title in x for x in wide)  # never a cut title


def test_an_html_error_page_is_one_summary_line(stressed):
    lines = render(stressed, 80, "en")
    at = next(i for i, x in enumerate(lines) if x.startswith("collection error: veeam"))
    entry = [lines[at], *(x for x in lines[at + 1:at + 4] if x.startswith("  "))]
    assert lines[at].startswith("collection error: veeam veeam/vbr-01: HTTP 503: Service "
                                "Unavailable The")
    assert len(entry) == terminal.REASON_LINES and entry[-1].endswith("…")
    assert "temporarily unable to service your request." in " ".join(entry)
    text = "\n".join(lines)
    assert "<" not in text and "{font" not in text and "Service Unavailable</" not in text


def test_quiet_prints_the_overall_line_alone(demo):
    assert render(demo, 80, "en", quiet=True) == [
        "Overall: BREACHED (partial run: some evidence could not be collected)"
    ]
    assert render(demo, 120, quiet=True) == [  # the contract's language: French
        "État global\u00a0: NON CONFORME (exécution partielle\u00a0: certaines preuves n'ont pas"
        " pu être collectées)"
    ]


def test_a_pipe_gets_80_columns_and_no_colour_unless_asked(demo):
    for color, env, coloured in [("auto", {}, False), ("never", {}, False),
                                 ("always", {}, True), ("always", {"NO_COLOR": "1"}, True),
                                 ("auto", {"NO_COLOR": "1"}, False)]:
        out = io.StringIO()
        console = terminal.make_console(color, file=out, env=env)
        assert console.width == 80
        terminal.render(demo, console)
        assert (ESC in out.getvalue()) is coloured, (color, env)
        plain = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
        assert max(cell_len(x) for x in plain.splitlines()) <= 80
    wide = terminal.make_console("auto", file=io.StringIO(), env={"COLUMNS": "132"})
    assert wide.width == 132
    with pytest.raises(ValueError):
        terminal.make_console("sometimes")


def test_status_colours_follow_the_status(demo):
    out = io.StringIO()
    terminal.render(demo, terminal.make_console("always", file=out, env={}), lang="en")
    assert "\x1b[1;31mBREACHED" in out.getvalue()
    assert "\x1b[1;32mCOMPLIANT" in out.getvalue()
    out = io.StringIO()
    terminal.render(demo, terminal.make_console("always", file=out, env={}))
    assert "\x1b[1;31mNON CONFORME" in out.getvalue()
    assert "\x1b[1;32mCONFORME" in out.getvalue()


def test_layout_never_splits_an_atom():
    atoms = [terminal.Atom("NO EVIDENCE", pad=12), terminal.Atom("Clause §1.2.3"),
             *(terminal.Atom(f"{n} breached,") for n in range(100, 120))]
    lines = [t.plain for t in terminal.lay_out(atoms, 40, indent=13)]
    assert all(len(x) <= 40 for x in lines) and len(lines) > 3
    joined = " ".join(lines)
    for n in range(100, 120):
        assert f"{n} breached," in joined
        assert whole_on_one_line(lines, f"{n} breached,")
    assert all(x.startswith(" " * 13) for x in lines[1:])


def test_wrap_folds_only_words_wider_than_a_line():
    arn = "arn:aws:iam::123456789012:user/" + "x" * 90
    lines = terminal.wrap(f"{arn} has no MFA device at all", 80, 16, 16)
    assert all(len(x) <= 80 - 16 or (i and len(x) <= 80) for i, x in enumerate(lines))
    assert "".join(x.strip() for x in lines[:2]).startswith(arn)
    short = terminal.wrap("one two three four five six", 12, 0, 2, max_lines=2)
    assert len(short) == 2 and short[-1].endswith("…") and all(len(x) <= 12 for x in short)


def test_statuses_cover_every_status():
    for w in (EN, FR):
        assert set(w.label) == set(Status) == set(terminal.STYLE)
        assert len(set(w.label.values())) == len(Status)
        assert w.status_width == max(len(x) for x in w.label.values())
    assert EN.label[Status.NO_EVIDENCE] == "NO EVIDENCE" and EN.status_width == 11
    assert FR.label[Status.BREACHED] == "NON CONFORME" and FR.status_width == 12


def test_wrap_never_breaks_at_a_no_break_space():
    text = "srv-01\u00a0: 1 correctif hors délai\u202f; RPO de 24\u00a0h, " * 4
    lines = terminal.wrap(text, 30, 0, 2)
    assert all(cell_len(x) <= 30 for x in lines) and len(lines) > 4
    assert not any(x.lstrip().startswith((":", ";", "h,")) for x in lines)
    assert "".join(lines).count("24\u00a0h") == 4


# --- French: the demo's contract says ``language: fr`` --------------------------------------


@pytest.fixture(scope="module")
def data(demo_run) -> list[str]:
    return demo_data(demo_run.out)


@pytest.mark.parametrize("width", [80, 120])
def test_the_french_contract_gets_a_french_summary(demo, data, width):
    assert demo.contract.language == "fr"
    lines = render(demo, width)  # no lang: the contract's
    text = "\n".join(lines)
    assert max(cell_len(x) for x in lines) <= width
    flat = unwrap(text, data)  # wrapped lines joined, vendor text (cut or whole) left out
    assert not english(flat, data), english(flat, data)[:10]
    assert not typography(flat, data), typography(flat, data)[:10]
    assert "(s)" not in flat and not SINGULAR_PLURAL.search(flat)
    # figures and dates by Babel, plurals by the catalogue
    assert "87,5\u00a0%/100\u00a0%" in text and "3\u202f084 preuves collectées" in text
    assert "1 erreur de collecte" in text and "situation au 22 novembre 2026 à 07:00" in text
    assert "1 correctif de sécurité hors délai" in text and "2 correctifs" in text
    assert "21 conformes, 3 non conformes" in text and "0 conforme, 1 sous dérogation" in text
    assert "dérogation expirée le 31 octobre 2026\u00a0: PAS-4.2-patch-prod" in text
    assert "RPO de 24\u00a0h" in flat and "24\u00a0h." in text  # figure and unit together
    # statuses, clause ids and figures whole on the clause lines
    for o in demo.outcomes:
        line = next(x for x in lines if x.startswith(FR.label[o.verdict.status])
                    and o.commitment.clause in x)
        assert terminal.measured_text(o, FR) in line


def test_run_demo_prints_french(demo_run, data):
    """What ``clausewatch run --demo`` printed (the French example contract, no --lang)."""
    text = unwrap(demo_run.stdout.replace(str(demo_run.out.resolve()), " "), data)
    assert "État global\u00a0: NON CONFORME" in text
    assert "Sorties de la démo écrites dans" in text
    assert not english(text, data), english(text, data)[:10]
    assert not typography(text, data), typography(text, data)[:10]


def test_the_french_scan_would_catch_the_english_summary(demo, data):
    text = unwrap("\n".join(render(demo, 80, "en")), data)
    assert english(text, data) and typography(text, data)
