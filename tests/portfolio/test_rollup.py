"""The portfolio roll-up over a store of several contracts: figures by hand, filters, formats,
and the CLI (``clausewatch portfolio``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clausewatch.cli import main
from clausewatch.core.result import Status
from clausewatch.demo import portfolio as synthetic
from clausewatch.history.periods import parse_period
from clausewatch.history.portfolio import Filters, portfolio
from clausewatch.history.store import open_history, read_history
from clausewatch.reports import portfolio as report

LAST = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 03:00 Paris, the last night of November
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pf") / "history.sqlite"
    with open_history(path, durable=False) as store:
        assert synthetic.fill(store, count=4, nights=75, last_night=LAST) == 300
    return path


def test_one_row_per_contract_and_clause_with_figures_from_the_store(store_path: Path) -> None:
    with read_history(store_path) as store:
        p = portfolio(store, parse_period("2026-11"), NOW)
        assert p.contracts == 4 and len(p.rows) == 12
        row = next(r for r in p.rows
                   if r.contract_id == "customer-0001" and r.commitment_id == "patch-prod")
        runs = store.runs("customer-0001")
        november = [r for r in runs if r.as_of.month == 11]
        verdicts = store.verdicts([r.seq for r in november])
        seen = [verdicts[r.seq]["patch-prod"] for r in november]
        latest = store.verdicts([runs[-1].seq])[runs[-1].seq]["patch-prod"]
    assert row.nights == 30 == len(seen)
    assert row.status_now is latest
    assert row.nights_not_measured == seen.count(Status.NO_EVIDENCE)
    in_compliance = sum(s in (Status.COMPLIANT, Status.AT_RISK, Status.WAIVED) for s in seen)
    assert row.night_share == pytest.approx(in_compliance / 30)
    assert row.exposure is not None and row.exposure.cap == 5000
    assert row.exposure.amount <= 5000
    assert len(row.trend) == 3 and row.trend[0] is None  # August: before the history began
    assert row.trend[-1] is not None  # October
    mfa = next(r for r in p.rows if r.commitment_id == "mfa-admins")
    assert mfa.exposure is None  # no penalty clause, not "nothing owed"


def test_open_breaches_and_their_age(store_path: Path) -> None:
    with read_history(store_path) as store:
        p = portfolio(store, parse_period("2026-11"), NOW)
        for r in p.rows:
            opened = [i for i in store.open_intervals(r.contract_id)
                      if i.commitment_id == r.commitment_id and i.subject
                      and i.breached_at is not None]
            assert r.breaches_open == len(opened)
            if opened:
                age = (LAST - min(i.breached_at for i in opened)).total_seconds() / 86400
                assert r.oldest_open_breach_days == pytest.approx(age)
            else:
                assert r.oldest_open_breach_days is None
    assert any(r.breaches_open for r in p.rows)


def test_filters_by_provider_customer_and_party(store_path: Path) -> None:
    with read_history(store_path) as store:
        period = parse_period("2026-11")
        by_provider = portfolio(store, period, NOW, Filters(provider="nordic managed it"))
        by_customer = portfolio(store, period, NOW, Filters(customer="Client 0002"))
        shared = portfolio(store, period, NOW, Filters(responsible="shared"))
    assert {r.contract_id for r in by_provider.rows} == {"customer-0001"}
    assert {r.contract_id for r in by_customer.rows} == {"customer-0002"}
    assert {r.commitment_id for r in shared.rows} == {"mfa-admins"} and len(shared.rows) == 4


def test_formats_carry_every_row(store_path: Path) -> None:
    with read_history(store_path) as store:
        p = portfolio(store, parse_period("2026-11"), NOW)
    doc = json.loads(report.render(p, "json"))
    assert len(doc["rows"]) == 12 and doc["period"] == "2026-11"
    assert {r["contract"] for r in doc["rows"]} == {f"customer-{i:04d}" for i in range(4)}
    html = report.render(p, "html", "fr")
    md = report.render(p, "md", "fr")
    for text in (html, md):
        for i in range(4):
            assert f"customer-{i:04d}" in text
        assert "non mesurées" in text and "aucune clause de pénalité" in text


def test_cli_writes_the_reports_and_says_when_nothing_was_measured(store_path: Path,
                                                                   tmp_path: Path) -> None:
    code = main(["portfolio", "--period", "2026-11", "--history", str(store_path),
                 "--out", str(tmp_path)])
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "portfolio-2026-11.html", "portfolio-2026-11.json", "portfolio-2026-11.md"]
    code = main(["portfolio", "--period", "2025-01", "--history", str(store_path),
                 "--out", str(tmp_path), "--format", "json"])
    assert code == 4
