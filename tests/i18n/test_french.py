"""The demo in French, every report and every alert: no English word of the product's own
vocabulary, and French typography (no-break space before ; : ! ? and inside « »).

Data is left out before looking: what the estate and the contract say (labels, subjects, facts
written by a collector, vendor error messages, contract titles) is quoted as it came."""

from __future__ import annotations

import dataclasses
import html
import re
from datetime import datetime
from pathlib import Path

import pytest
from french_text import SINGULAR_PLURAL, demo_data, english, scrub, strings, typography

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


@pytest.fixture(scope="module")
def data(demo_run) -> list[str]:
    """Every string the estate, the contract and the run's inputs brought (quoted as is)."""
    return demo_data(demo_run.out)


def _text(page: str) -> str:
    page = re.sub(r"<(style|svg)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(page)


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
        "slack": html.unescape("\n".join(strings(slack.payload(digest)))),  # Slack escapes &
        "teams": "\n".join(s for s in strings(teams.payload(digest))
                           if s not in ("TextBlock", "FactSet", "AdaptiveCard", "Bolder",
                                        "Medium", "Attention", "Good", "message")),
        # PagerDuty: the summary is for people; custom_details are the machine-readable events
        "pagerduty": pagerduty.payload(digest, "trigger", "k", "error")["payload"]["summary"],
        "email": str(mail["Subject"]) + "\n" + _text(html_part.get_content()),
    }


def test_every_report_is_french(demo_run, data):
    for name, text in _reports(demo_run.out).items():
        assert not english(text, data), (name, english(text, data)[:10])


def test_every_alert_is_french(demo_run, data):
    for name, text in _alerts(demo_run.out).items():
        assert not english(text, data), (name, english(text, data)[:10])


def test_french_typography_in_reports_and_alerts(demo_run, data):
    for name, text in {**_reports(demo_run.out), **_alerts(demo_run.out)}.items():
        assert not typography(text, data), (name, typography(text, data)[:10])


def test_french_grammar_no_parenthesised_plurals(demo_run, data):
    for name, text in {**_reports(demo_run.out), **_alerts(demo_run.out)}.items():
        clean = scrub(text, data)
        assert "(s)" not in clean, name
        assert not SINGULAR_PLURAL.search(clean), name


def test_the_scan_catches_english(data):
    """The checks above would fail on an English reason or a bad space."""
    assert english("fs-01 : last successful backup 20,0 h ago", data)
    assert typography("Verdict : ok", data) and typography("« Preuves »", data)
    assert not typography("Verdict\u00a0: ok\u202f; «\u00a0Preuves\u00a0»", data)
