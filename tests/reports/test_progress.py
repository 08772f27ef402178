"""Progress on a terminal speaks the run's language and shows names as they are."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

from clausewatch.core.i18n import Catalogue
from clausewatch.reports.progress import CollectionProgress, StageProgress


def terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=120, color_system=None), out


def test_a_french_stage_is_named_in_french_with_its_plural():
    console, out = terminal()
    with StageProgress(console, Catalogue("fr")) as stage:
        stage("progress_reading", path="preuves[1].jsonl")
        stage._progress.refresh()
        stage("progress_backfill", total=90, n=90)
        stage.advance(3)
        stage._progress.refresh()
    text = out.getvalue()
    assert "lecture de preuves[1].jsonl" in text  # brackets shown, not taken as markup
    assert "reconstitution de 90 nuits d'historique" in text and "3/90" in text
    assert "reading" not in text and "back-filling" not in text


def test_english_is_the_default():
    console, out = terminal()
    with StageProgress(console) as stage:
        stage("progress_evaluating_out")
        stage._progress.refresh()
    assert "evaluating and writing the outputs" in out.getvalue()


def test_each_finished_collector_gets_a_line_in_the_run_language():
    console, out = terminal()
    done = SimpleNamespace(source="aws", origin="123456789012/eu-west-3")
    failed = SimpleNamespace(source="m365", origin="[contoso]")
    with CollectionProgress(console, Catalogue("fr")) as progress:
        for collector in (done, failed):
            progress(collector, "start")  # type: ignore[arg-type]
        progress(done, "done")  # type: ignore[arg-type]
        progress(failed, "failed")  # type: ignore[arg-type]
    lines = out.getvalue().splitlines()
    assert any(line.endswith("terminé aws 123456789012/eu-west-3") for line in lines)
    assert any(line.endswith("en échec m365 [contoso]") for line in lines)
    assert "collecte" in out.getvalue()
