"""The demo's back-filled history, its outbox, and ``clausewatch report --period``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from clausewatch.cli import main
from clausewatch.demo.backfill import (
    OUTAGE_EVERY,
    OUTAGE_PHASE,
    EstateCache,
    in_episode,
    vary,
)
from clausewatch.demo.estate import build_estate
from clausewatch.history.store import read_history

AS_OF = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)  # the shared demo run (tests/conftest.py)


def test_the_estate_cache_matches_building_each_night():
    cache = EstateCache()
    for k in (30, 12, 1):
        night = AS_OF - timedelta(days=k)
        evidence, errors = cache.estate(night)
        built = build_estate(night)
        assert evidence == built.evidence
        assert errors == built.errors


def test_the_estate_cache_shifted_back_from_tonight_matches_building_each_night():
    """The demo hands tonight's estate to the back-fill: nights are shifted back from it."""
    cache = EstateCache((AS_OF, build_estate(AS_OF)))
    for k in (89, 45, 2):
        night = AS_OF - timedelta(days=k)
        built = build_estate(night)
        assert cache.estate(night) == (built.evidence, built.errors)


def test_varying_only_the_records_that_may_vary_changes_nothing():
    cache = EstateCache()
    for k in (40, 11, 3):
        night = AS_OF - timedelta(days=k)
        evidence, errors = cache.estate(night)
        asked = vary(evidence, errors, k, night)
        fast = vary(evidence, errors, k, night, cache.may_vary(night))
        assert fast == asked
        assert sum(a is not b for a, b in zip(evidence, fast[0], strict=True)) > 5


def test_rhythms_always_end_in_tonights_state():
    keys = [f"srv-{i}|KB{i}" for i in range(200)]
    assert all(in_episode(k, 0) for k in keys)
    assert any(not in_episode(k, 10) for k in keys)


@pytest.fixture(scope="module")
def demo(demo_run):
    out = demo_run.out
    assert demo_run.code == 3  # the demo estate has breaches tonight
    return out


def test_demo_backfills_ninety_nights(demo):
    with read_history(demo / "history.sqlite") as store:
        runs = store.runs("demo-infogerance-2026")
        assert len(runs) == 91
        assert runs[0].as_of == AS_OF - timedelta(days=90) and runs[-1].as_of == AS_OF
        # the Graph outage nights are partial and saw MFA without evidence
        outage = [r for r in runs if ((AS_OF - r.as_of).days % OUTAGE_EVERY) == OUTAGE_PHASE]
        assert outage and all(r.partial for r in outage)
        verdicts = store.verdicts([r.seq for r in outage])
        assert all(str(v["PAS-3.2-mfa-users"]) == "no_evidence" for v in verdicts.values())
        # breaches opened and closed along the way
        closed = [i for i in store.intervals("demo-infogerance-2026") if i.closed_at]
        assert len(closed) > 20
        assert {i.end_reason for i in closed} >= {"cured"}
        deliveries = store.deliveries(runs[-1].seq)
        assert [(d.channel, d.ok) for d in deliveries] == [("outbox", True)]


def test_demo_outbox_holds_one_grouped_message_per_night_with_news(demo):
    lines = [json.loads(x) for x in (demo / "outbox.jsonl").read_text().splitlines()]
    assert 30 < len(lines) <= 91
    kinds = {e["kind"] for line in lines for e in line["message"]["events"]}
    assert {"breached", "cured", "reminder", "at_risk", "evidence_missing"} <= kinds
    assert all(line["channel"] == "outbox" for line in lines)
    tonight = json.loads((demo / "alerts.json").read_text())
    assert tonight["run_id"] and tonight["deliveries"][0]["ok"] is True


def test_demo_writes_last_months_report(demo):
    html = (demo / "period-2026-10.html").read_text()
    md = (demo / "period-2026-10.md").read_text()
    assert "<svg" in html and "http://" not in html.replace("http://www.w3.org", "")
    assert "PAS §4.2" in html and "\u00a0€" in html
    assert "| PAS §4.2 |" in md and "Nuits conformes" in md  # the demo contract is French


def test_report_command_for_a_quarter(demo, tmp_path, capsys):
    code = main(["report", "--period", "2026-Q4", "--history", str(demo / "history.sqlite"),
                 "--out", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    md = (tmp_path / "period-2026-Q4.md").read_text()
    assert "2026-Q4" in md and "2026-Q3" in md  # the trend goes back over earlier quarters
    assert "— T4 2026" in md and "## Tenue des engagements" in md  # the stored contract's fr
    code = main(["report", "--period", "2026-Q4", "--history", str(demo / "history.sqlite"),
                 "--out", str(tmp_path), "--lang", "en"])
    assert code == 0, capsys.readouterr().err
    md = (tmp_path / "period-2026-Q4.md").read_text()
    assert "— Q4 2026" in md and "## Attainment per commitment" in md
    with pytest.raises(SystemExit) as exit_info:  # argparse refuses an unknown language
        main(["report", "--period", "2026-Q4", "--history", str(demo / "history.sqlite"),
              "--lang", "de"])
    assert exit_info.value.code == 2
    assert main(["report", "--period", "2026-14", "--history", str(demo / "history.sqlite")]) == 2
    assert "YYYY-MM" in capsys.readouterr().err
    assert main(["report", "--period", "2026-10", "--history", str(tmp_path / "none")]) == 2
