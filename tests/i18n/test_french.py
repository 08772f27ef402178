"""The demo in French, every report and every alert: no English word of the product's own
vocabulary, and French typography (no-break space before ; : ! ? and inside « »).

Data is left out before looking: what the estate and the contract say (labels, subjects, facts
written by a collector, vendor error messages, contract titles) is quoted as it came."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from clausewatch.alerts.channels import email, pagerduty, slack, teams
from clausewatch.alerts.events import EventKind, Rules, detect
from clausewatch.alerts.notify import make_digest
from clausewatch.checks import CHECKS
from clausewatch.checks.engine import evaluate
from clausewatch.core.run import RunInfo
from clausewatch.demo.estate import build_estate
from clausewatch.history.standing import read_standing
from clausewatch.history.store import read_history
from clausewatch.policies.load import load_contract

#: Words of the product's English (reasons, headings, labels, alerts), as whole words.
ENGLISH = (
    "the and of not none with without since due day days night nights breach breached breaches "
    "compliant compliance evidence subject subjects update updates security deadline late worst "
    "backup backed restore successful successfully enforced registered waived waiver expires "
    "approved reason status target measured commitment provider customer penalty exposure cap "
    "so far open cured newly still reminder risk missing gone more could collect freshness "
    "limit old ago inventory data account privileged method identity period outstanding "
    "severity critical important moderate low falls past record every only cannot change "
    "undecided overall generated contract as at in force from to by for on is are was be "
    "succeeded attempts attempt warnings accepted never scope longer sees run runs report "
    "summary chart charts share measured target"
).split()
WORD = re.compile(r"(?<![\w./@:-])(" + "|".join(sorted(set(ENGLISH), key=len, reverse=True))
                  + r")(?![\w./@:-])", re.IGNORECASE)
SPACES = "\u00a0\u202f"


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.fixture(scope="module")
def data(demo_run) -> list[str]:
    """Every string the estate, the contract and the run's inputs brought (quoted as is)."""
    found: set[str] = set()
    for line in (demo_run.out / "evidence.jsonl").read_text(encoding="utf-8").splitlines():
        found.update(_strings(json.loads(line)))
    results = json.loads((demo_run.out / "results.json").read_text(encoding="utf-8"))
    found.update(_strings(results["contract"]))
    found.update(_strings(results["waivers"]))
    found.update(_strings(results["collection_errors"]))
    for c in results["commitments"]:
        found.update([c["id"], c["title"], c["clause"], c["check"]])
        for r in c["results"]:
            found.update([r["subject"], r["label"]])
            found.update(s for s in _strings(r["reason_params"]) if s.startswith(" ("))
    return sorted((s for s in found if len(s) > 2), key=len, reverse=True)


def _text(page: str) -> str:
    page = re.sub(r"<(style|svg)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


def _scrub(text: str, data: list[str]) -> str:
    for s in data:
        text = text.replace(s, " ")
    return text


def _english(text: str, data: list[str]) -> list[str]:
    clean = _scrub(text, data)
    return [clean[max(0, m.start() - 50):m.end() + 30].replace("\n", " ")
            for m in WORD.finditer(clean)]


def _typography(text: str, data: list[str]) -> list[str]:
    clean = re.sub(r"```.*?```|`[^`\n]*`", " ", _scrub(text, data), flags=re.S)  # code
    bad = []
    for m in re.finditer(r"(.)([;:!?])", clean):
        if m.group(1) in SPACES:
            continue
        after = clean[m.end():m.end() + 1]
        if m.group(2) == ":" and (after in ("/", "") or after.isalnum()):
            continue  # a URL, a time, an ARN, ``accept_warning:``: not punctuation
        if m.group(2) == ";" and after == "":
            continue
        if m.group(2) == ":" and (m.group(1) == "-" or after == "-"):
            continue  # a Markdown table's alignment row
        bad.append(clean[max(0, m.start() - 30):m.end() + 10])
    bad += [clean[max(0, m.start() - 20):m.end() + 20]
            for m in re.finditer(r"«(?![\u00a0\u202f])|(?<![\u00a0\u202f])»", clean)]
    return bad


def _reports(out: Path) -> dict[str, str]:
    return {
        "report.html": _text((out / "report.html").read_text(encoding="utf-8")),
        "summary.md": (out / "summary.md").read_text(encoding="utf-8"),
        "period.html": _text(next(out.glob("period-*.html")).read_text(encoding="utf-8")),
        "period.md": next(out.glob("period-*.md")).read_text(encoding="utf-8"),
    }


def _alerts(out: Path) -> dict[str, str]:
    """Every channel's rendering of the demo's alerts, every kind of event included."""
    text = (out / "contract.yaml").read_text(encoding="utf-8")
    contract = load_contract("contract.yaml", CHECKS, raw=text.encode("utf-8"))
    as_of = datetime.fromisoformat("2026-11-22T06:00:00+00:00")
    estate = build_estate(as_of)
    ev = evaluate(contract, estate.evidence, estate.errors, as_of)
    info = RunInfo(as_of=as_of, started_at=as_of, finished_at=as_of, command="test", inputs={})
    with read_history(out / "history.sqlite") as store:
        prior = dataclasses.replace(store.prior(contract.id), open={}, statuses={})
    detection = detect(prior, ev, Rules())
    events = list(detection.events)
    base = next(e for e in events if e.kind is EventKind.BREACHED)
    events += [dataclasses.replace(base, kind=k, how=h) for k, h in (
        (EventKind.REMINDER, ""), (EventKind.CURED, "compliant"), (EventKind.CURED, "waived"),
        (EventKind.CURED, "gone"))]
    detection = dataclasses.replace(detection, events=tuple(events))
    digest = make_digest(ev, info, detection, read_standing(out / "history.sqlite", ev))
    assert digest.lang == "fr" and digest.costs
    mail = email.message(digest, "a@b.test", ["c@d.test"])
    html_part = next(p for p in mail.walk() if p.get_content_type() == "text/html")
    return {
        "text": digest.text(),
        "slack": html.unescape("\n".join(_strings(slack.payload(digest)))),  # Slack escapes &
        "teams": "\n".join(s for s in _strings(teams.payload(digest))
                           if s not in ("TextBlock", "FactSet", "AdaptiveCard", "Bolder",
                                        "Medium", "Attention", "Good", "message")),
        # PagerDuty: the summary is for people; custom_details are the machine-readable events
        "pagerduty": pagerduty.payload(digest, "trigger", "k", "error")["payload"]["summary"],
        "email": str(mail["Subject"]) + "\n" + _text(html_part.get_content()),
    }


def test_every_report_is_french(demo_run, data):
    for name, text in _reports(demo_run.out).items():
        assert not _english(text, data), (name, _english(text, data)[:10])


def test_every_alert_is_french(demo_run, data):
    for name, text in _alerts(demo_run.out).items():
        assert not _english(text, data), (name, _english(text, data)[:10])


def test_french_typography_in_reports_and_alerts(demo_run, data):
    for name, text in {**_reports(demo_run.out), **_alerts(demo_run.out)}.items():
        assert not _typography(text, data), (name, _typography(text, data)[:10])


def test_french_grammar_no_parenthesised_plurals(demo_run, data):
    for name, text in {**_reports(demo_run.out), **_alerts(demo_run.out)}.items():
        clean = _scrub(text, data)
        assert "(s)" not in clean, name
        one = r"(?<![\d,.])[01] (nuits|correctifs|éléments|jours|exécutions)\b"
        assert not re.search(one, clean), name


def test_the_scan_catches_english(data):
    """The checks above would fail on an English reason or a bad space."""
    assert _english("fs-01 : last successful backup 20,0 h ago", data)
    assert _typography("Verdict : ok", data) and _typography("« Preuves »", data)
    assert not _typography("Verdict\u00a0: ok\u202f; «\u00a0Preuves\u00a0»", data)
