"""The period report's words and formats: French or English, all from the report catalogue."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from nights import OUTAGE, B, C, N, commitment, contract, evaluation, info, night

from clausewatch.core.contract import Penalty
from clausewatch.history.attainment import attainment
from clausewatch.history.periods import parse_period
from clausewatch.history.store import open_history
from clausewatch.reports import period as period_report

NOW = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
TEMPLATES = Path(period_report.__file__).parent / "templates"
P = dataclasses.replace(
    commitment("P", penalty=Penalty(per_breach=500, per_day_late=100, cap_per_period=1000,
                                    period="month")),
    title="Correctifs de sécurité des serveurs de production (critiques 7 j)",
)
K = dataclasses.replace(contract(P), language="fr", title="Contrat d'infogérance n° 7")
# nights 0..4 of October: breached, compliant, no evidence (outage), breached, compliant
SCRIPT = [
    (night(0), {"a": B, "b": C}, []),
    (night(1), {"a": C, "b": C}, []),
    (night(2), {"a": N, "b": C}, [OUTAGE]),
    (night(3), {"a": B, "b": C}, []),
    (night(4), {"a": C, "b": C}, []),
]
# English words the report used to print from its templates
ENGLISH = (
    "Period compliance report", "Penalty exposure", "Nightly runs", "Latest run",
    "Attainment per commitment", "Nights in compliance", "Subject-days", "Breaches",
    "Findings", "Time to cure", "night by night", "no run", "Share of subjects", "Dashed",
    "Trend", "How these figures", "Generated", "capped from", " began", " late", "in time",
    "n/a", " for ",
)  # fmt: skip


@pytest.fixture(scope="module")
def october(tmp_path_factory):
    path = tmp_path_factory.mktemp("period") / "h.sqlite"
    with open_history(path) as store:
        for i, (when, statuses, errors) in enumerate(SCRIPT):
            store.record(evaluation(K, when, statuses, errors=errors), info(when, i + 1),
                         contract_text="")
        att = attainment(store, K, parse_period("2026-10"))
    p = att.commitments[0]
    # the figures the report must show, checked by hand
    assert (p.nights_in_compliance, len(p.nights), p.nights_no_evidence) == (2, 5, 1)
    assert (p.subject_days_compliant, p.subject_days) == (7, 10)
    assert (p.breaches, p.breaches_started, p.breach_days) == (2, 2, 2.0)
    assert (p.exposure.amount, p.exposure.uncapped) == (1000, 1200)  # 2 x 500 + 2 x 100, cap
    return att


def text_of(html: str) -> str:
    """The words a reader sees: tags dropped, entities decoded, the catalogue's no-break
    spaces kept."""
    body = re.sub(r"<[^>]+>", " ", html.split("</style>", 1)[1])
    return re.sub(r"[ \t\r\n]+", " ", unescape(body))


def test_french_by_default_for_a_french_contract(october):
    html, md = period_report.render(october, [october], NOW)
    assert '<html lang="fr">' in html
    words = text_of(html)
    for expected in (
        "Rapport de conformité de la période · octobre 2026",
        "Pénalités encourues", "1\u202f000\u00a0€", "plafonnée, au lieu de 1\u202f200\u00a0€",
        "du 1er octobre 2026 au 31 octobre 2026 (Europe/Paris)",
        "Exécutions nocturnes de la période", "5 nuits (5 exécutions)",
        "Tenue des engagements", "Engagement", "Cible", "Nuits conformes",
        "Éléments-jours conformes", "Manquements (jours)", "Constats corrigés",
        "Délai de correction moyen / p90", "Pénalité",
        "40\u00a0%", "2 / 5", "⚠ 1 nuit non mesurée", "70\u00a0%", "7 / 10", "2 (2,0\u00a0j)",
        "2 ouverts", "1 nuit sans preuve non comptée", "Verdict nuit par nuit", "Sans preuve",
        "Non conforme",
        "pas d'exécution", "Part des éléments conformes, nuit par nuit",
        "Comment ces chiffres sont calculés", "(fuseau Europe/Paris)",
        "Produit le 2 novembre 2026 à 09:30 (UTC+01:00) par ClauseWatch",
    ):  # fmt: skip
        assert expected in words, expected
    for english in ENGLISH:
        assert english not in words, english
    assert md.startswith("# Contrat d'infogérance n° 7 — octobre 2026\n")
    for expected in ("## Tenue des engagements", "| Cible | Nuits conformes |",
                     "| 40\u00a0% (2/5) | 70\u00a0% (7/10) | ⚠ 1 nuit non mesurée "
                     "| 2 (2,0\u00a0j) |",
                     "**Pénalités encourues\u00a0:** 1\u202f000\u00a0€.",
                     "## Verdict nuit par nuit", "`?` Sans preuve", "XC?XC"):
        assert expected in md, expected
    for english in ENGLISH:
        assert english not in md, english


def test_lang_en_overrides_the_contract_language(october):
    html, md = period_report.render(october, [october], NOW, lang="en")
    assert '<html lang="en">' in html
    words = text_of(html)
    for expected in (
        "Period compliance report · October 2026", "Penalty exposure", "€1,000",
        "capped from €1,200", "1 Oct 2026 to 31 Oct 2026 (Europe/Paris)",
        "Attainment per commitment", "Nights in compliance", "40%", "70%", "2 (2.0\u00a0d)",
        "1 night not measured", "2 began", "Verdict night by night", "No evidence",
        "Generated 2 Nov 2026, 09:30 (UTC+01:00) by ClauseWatch",
    ):  # fmt: skip
        assert expected in words, expected
    assert "Tenue des engagements" not in words and "nuit" not in words
    assert "## Attainment per commitment" in md and "| 40% (2/5) | 70% (7/10) |" in md


def test_an_unknown_language_is_refused(october):
    with pytest.raises(ValueError, match="unknown language 'de'"):
        period_report.render(october, [october], NOW, lang="de")


def test_write_names_the_files_after_the_period(october, tmp_path):
    written = period_report.write(tmp_path, october, [october], NOW)
    assert written.html == tmp_path / "period-2026-10.html"
    assert "Tenue des engagements" in written.html.read_text(encoding="utf-8")
    assert "## Tenue des engagements" in written.markdown.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["period.html.j2", "period.md.j2"])
def test_templates_hold_no_words_of_their_own(name):
    """Every word comes from the catalogue: strip Jinja and markup, no word may be left."""
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    left = re.sub(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", " ", source, flags=re.S)
    left = re.sub(r"<[^>]*>", " ", left)
    words = re.findall(r"[^\W\d_]{2,}", left)
    assert words == [], words
