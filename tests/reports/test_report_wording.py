"""What a CISO reads in the run report: the verdict in the report's language, every subject to
fix (also under a commitment that meets its target), and how "measured" is computed."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from browser import chromium, needs_chromium
from markupsafe import escape
from report_case import AS_OF, render

from clausewatch.checks import CHECKS
from clausewatch.checks.engine import evaluate
from clausewatch.core.evidence import CollectionError, Evidence
from clausewatch.core.result import SEVERITY_ORDER, Status, Verdict
from clausewatch.reports.i18n import Catalogue
from clausewatch.reports.verdict_text import verdict_sentence

NBSP = "\u00a0"
NNBSP = "\u202f"  # before ; ! ? (narrow no-break space)
PARIS = ZoneInfo("Europe/Paris")


class Cells(HTMLParser):
    """Every table cell of a page: its ``lang`` attribute and its text, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str | None, str]] = []
        self._open: tuple[str | None, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "td":
            self._open = (dict(attrs).get("lang"), [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._open is not None:
            self.cells.append((self._open[0], "".join(self._open[1])))
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[1].append(data)


def cells(page: str) -> dict[str, str | None]:
    parser = Cells()
    parser.feed(page)
    return {text: lang for lang, text in parser.cells}


def section(page: str, anchor: str) -> str:
    """The HTML of one clause's section in the report."""
    start = page.index(f'id="{anchor}"')
    return page[start : page.index("</section>", start)]


# 1. The verdict sentence, in the report's language ----------------------------------------------


def test_french_report_phrases_verdicts_in_french_not_the_engines_english(case):
    html = render("html", case.ev, case.info)
    md = render("markdown", case.ev, case.info)
    for o in case.ev.outcomes:  # the engine's English sentence stays in results.json only
        assert str(escape(o.verdict.reason)) not in html, o.commitment.id
        assert o.verdict.reason not in md, o.commitment.id
    assert "subject(s)" not in html and "subject(s)" not in md
    expected = {
        "MFA-ADMINS": f"66,7{NBSP}% de conformité sur 3 éléments, pour une cible de 100{NBSP}%"
        f"{NBSP}: 1 élément non conforme.",
        "PATCH-BATCH": f"100{NBSP}% de conformité sur 1 élément, pour une cible de 100{NBSP}%"
        f"{NBSP}: 1 élément arrive à échéance le 23 novembre 2026.",
        "BACKUP-DB": f"50{NBSP}% de conformité sur 2 éléments, pour une cible de 100{NBSP}%"
        f"{NBSP}: impossible de trancher, 1 élément sans preuve exploitable.",
        "PATCH-LEGACY": "L'unique élément du périmètre est sous dérogation.",
    }
    for cid, sentence in expected.items():
        assert f"<b>Verdict{NBSP}:</b> {escape(sentence)}</p>" in section(html, cid), cid
        assert f"Verdict{NBSP}: {sentence}\n" in md, cid


def test_english_report_phrases_the_same_verdicts_in_english(case):
    html = render("html", case.ev, case.info, "en")
    md = render("markdown", case.ev, case.info, "en")
    sentence = "66.7% compliant across 3 subjects, against a target of 100%: 1 subject breached."
    assert f"<b>Verdict:</b> {sentence}</p>" in section(html, "MFA-ADMINS")
    assert f"Verdict: {sentence}\n" in md
    assert "Verdict: The only subject in scope is waived.\n" in md


def verdict(status: Status, measured: float | None, due: datetime | None = None, **counts: int):
    full = {str(s): counts.get(str(s), 0) for s in Status}
    return Verdict(
        commitment_id="X", status=status, measured=measured, target=0.95, counts=full,
        reason="the engine's English sentence", due=due,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("v", "errors", "fr", "en"),
    [
        (
            verdict(Status.COMPLIANT, 329 / 340, compliant=329, breached=9, no_evidence=2),
            0,
            f"96,8{NBSP}% de conformité sur 340 éléments, pour une cible de 95{NBSP}%{NNBSP}; "
            "les 2 éléments sans preuve ne peuvent pas changer ce verdict.",
            "96.8% compliant across 340 subjects, against a target of 95%; the 2 subjects "
            "without evidence cannot change it.",
        ),
        (
            verdict(Status.COMPLIANT, 0.975, compliant=39, no_evidence=1),
            0,
            f"97,5{NBSP}% de conformité sur 40 éléments, pour une cible de 95{NBSP}%{NNBSP}; "
            "l'élément sans preuve ne peut pas changer ce verdict.",
            "97.5% compliant across 40 subjects, against a target of 95%; the subject without "
            "evidence cannot change it.",
        ),
        (
            verdict(
                Status.AT_RISK,
                1.0,
                datetime(2026, 11, 30, 23, 30, tzinfo=UTC),
                compliant=3,
                at_risk=2,
            ),
            0,  # due in the contract's zone: 1 December in Paris
            f"100{NBSP}% de conformité sur 5 éléments, pour une cible de 95{NBSP}%{NBSP}: "
            "2 éléments arrivent à échéance, le premier le 1er décembre 2026.",
            "100% compliant across 5 subjects, against a target of 95%: 2 subjects fall due, "
            "the first on 1 Dec 2026.",
        ),
        (
            verdict(Status.BREACHED, 0.5, compliant=2, breached=2),
            0,
            f"50{NBSP}% de conformité sur 4 éléments, pour une cible de 95{NBSP}%{NBSP}: "
            "2 éléments non conformes.",
            "50% compliant across 4 subjects, against a target of 95%: 2 subjects breached.",
        ),
        (
            verdict(Status.WAIVED, None, waived=3),
            0,
            "Les 3 éléments du périmètre sont sous dérogation.",
            "All 3 subjects in scope are waived.",
        ),
        (
            verdict(Status.NO_EVIDENCE, None),
            2,
            f"Aucun élément du périmètre n'a de preuve exploitable{NNBSP}; 2 erreurs de collecte "
            "touchent cet engagement.",
            "No subject in scope had usable evidence; 2 collection errors bear on this commitment.",
        ),
        (
            verdict(Status.NO_EVIDENCE, None),
            0,
            "Aucun élément du périmètre n'a de preuve exploitable.",
            "No subject in scope had usable evidence.",
        ),
    ],
)
def test_verdict_sentence_from_the_verdicts_figures(v, errors, fr, en):
    assert verdict_sentence(Catalogue("fr"), v, PARIS, errors) == fr
    assert verdict_sentence(Catalogue("en"), v, PARIS, errors) == en


def test_subject_reasons_are_french_in_a_french_report(case):
    """Reasons are rendered from their message ids; what a vendor said (a collection error's
    summary) stays as it came, marked English."""
    fr_page = render("html", case.ev, case.info)
    fr = cells(fr_page)
    en = cells(render("html", case.ev, case.info, "en"))
    t = Catalogue("fr")
    results = [r for o in case.ev.outcomes for r in o.results if r.status != "compliant"]
    assert len(results) >= 6 and all(r.reason_id for r in results)
    for r in results:
        french = t.reason(r, PARIS)
        assert french != r.reason and str(escape(r.reason)) not in fr_page, r.reason
        assert any(text.startswith(french) and lang is None for text, lang in fr.items()), french
        assert any(text.startswith(r.reason) and lang is None for text, lang in en.items())
    summaries = [e for e in fr if e.startswith("AccessDenied")]
    assert summaries and all(fr[e] == "en" for e in summaries)  # the vendor's words
    assert fr["Prestataire"] is None  # French cells are not marked


# 2. Every subject to fix, whatever the commitment's verdict --------------------------------------


def test_a_compliant_commitment_still_lists_its_breached_subject(case):
    """§1 with a 60 % target: 2 of 3 administrators enforce MFA, so it is compliant, but bob
    does not and must still be on the list."""
    k = case.ev.contract
    lenient = dataclasses.replace(
        k,
        commitments=tuple(
            dataclasses.replace(c, target=0.6) if c.id == "MFA-ADMINS" else c for c in k.commitments
        ),
    )
    evidence = [r for r in case.records if isinstance(r, Evidence)]
    errors = [r for r in case.records if isinstance(r, CollectionError)]
    ev = evaluate(lenient, evidence, errors, AS_OF, CHECKS)
    mfa = next(o for o in ev.outcomes if o.commitment.id == "MFA-ADMINS")
    assert mfa.verdict.status is Status.COMPLIANT and mfa.verdict.counts["breached"] == 1
    bob = f"bob@client.test (Global Administrator){NBSP}: MFA enregistrée mais non imposée."

    html = section(render("html", ev, case.info), "MFA-ADMINS")
    assert '<span class="badge s-compliant">Conforme</span>' in html
    assert "Éléments à traiter (1)" in html
    assert f'<span class="badge s-breached">Non conforme</span></td><td data-label="Motif">{bob}' \
        in html

    md = render("markdown", ev, case.info)
    head = "### §1 — MFA imposée aux administrateurs (Conforme)"
    assert head in md.split("## Éléments à traiter", 1)[1]
    assert f"{head}\n\nVerdict{NBSP}: " in md
    assert f"- **Non conforme** {bob}" in md.split(head, 1)[1].split("###", 1)[0]


@pytest.fixture(scope="module")
def demo(demo_run) -> Path:
    out = demo_run.out
    assert demo_run.code == 3
    return out


def test_demo_mfa_users_clause_met_its_target_and_still_lists_its_accounts(demo):
    """The reviewer's case: PAS §3.2 is compliant (96.8 % for 95 %) with 9 users without MFA
    and 2 without evidence; the report shows them, worst first, and speaks French."""
    doc = json.loads((demo / "results.json").read_text())
    users = next(c for c in doc["commitments"] if c["id"] == "PAS-3.2-mfa-users")
    assert users["status"] == "compliant"
    assert (users["counts"]["breached"], users["counts"]["no_evidence"]) == (9, 2)
    to_fix = [r for r in users["results"] if r["status"] != "compliant"]

    md = (demo / "summary.md").read_text(encoding="utf-8")
    part = md.split("### PAS §3.2 — MFA imposée à 95 % des utilisateurs actifs (Conforme)")[1]
    part = part.split("\n### ", 1)[0]
    listed = re.findall(r"^- \*\*(.+?)\*\* ", part, flags=re.M)
    assert listed[:10] == ["Non conforme"] * 9 + ["Sans preuve"]
    assert "… et 3 de plus (voir results.csv)." in part

    html = section((demo / "report.html").read_text(encoding="utf-8"), "PAS-3.2-mfa-users")
    assert "Éléments à traiter (13)" in html
    t = Catalogue("fr")
    keys = ("reason", "reason_id", "reason_params")
    french = [t.reason(SimpleNamespace(**{k: r[k] for k in keys}), PARIS) for r in to_fix]
    assert len(to_fix) == 13 and all(f">{escape(f)}" in html for f in french)
    assert not any(str(escape(r["reason"])) in html for r in to_fix)
    shown = re.findall(r'<tr class="s-(\w+)">', html)
    assert shown == sorted(shown, key=lambda s: SEVERITY_ORDER[Status(s)])  # worst first
    assert shown.count("breached") == 9 and shown.count("no_evidence") == 2
    assert "Afficher les 3 autres éléments" in html  # the tail folds on screen

    for c in doc["commitments"]:  # no English verdict anywhere in the French outputs
        assert c["reason"] not in md and str(escape(c["reason"])) not in html
    assert f"Verdict{NBSP}: 96,8{NBSP}% de conformité sur 342 éléments, pour une cible de 95" in md


# 3. How the measured share is computed -----------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("fr", ("Mesuré = (conformes + à risque) ÷ éléments comptés", "encore conformes",
                "dérogation sont exclus", "sans preuve comptent comme non conformes")),
        ("en", ("Measured = (compliant + at risk) ÷ subjects counted", "still comply today",
                "waived subjects are left out", "without evidence count as not compliant")),
    ],
)  # fmt: skip
def test_measured_share_is_explained_under_the_table(case, lang, words):
    note = Catalogue(lang).t("measured_note")
    for w in words:
        assert w in note, w
    html = render("html", case.ev, case.info, lang)
    summary_end = html.index("</table>", html.index('<table class="summary">'))
    assert html[summary_end:].startswith(f'</table>\n<p class="table-note">{escape(note)}</p>')
    md = render("markdown", case.ev, case.info, lang)
    last_row = md.index("| §4 |")
    assert md[md.index("\n", last_row) :].startswith(f"\n\n*{note}*\n")


# Folded lists are printed in full ----------------------------------------------------------------

@needs_chromium
def test_folded_subjects_are_in_the_printed_report(case, tmp_path, monkeypatch):
    pypdf = pytest.importorskip("pypdf")
    monkeypatch.setattr("clausewatch.reports.formats.html.OPEN_OFFENDERS", 1)  # fold §2's last two
    page = render("html", case.ev, case.info)
    srv_c = f"srv-c{NBSP}: aucune donnée de correctifs{NBSP}: aucune source n'en a fourni."
    folded = section(page, "PATCH-SRV").split('<details class="more-offenders">', 1)[1]
    assert "Afficher les 2 autres éléments" in folded and str(escape(srv_c)) in folded
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    pdf = tmp_path / "report.pdf"
    done = chromium(tmp_path, f"--print-to-pdf={pdf}", path.as_uri())
    assert pdf.exists(), done.stderr[-2000:]
    text = " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages).split())
    assert " ".join(srv_c.split()) in text  # printed although folded on screen
    assert "Afficher les 2 autres" not in text  # the toggle itself is not printed
