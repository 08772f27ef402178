"""The output-format registry is exhaustive and everything iterates it (in the style of
pip-audit's ``test_to_format_is_exhaustive``): a format module that exists but is not registered
fails; every registered format is written by publish, accepted by the output-folder guard,
named in the pack README and offered by ``--format``."""

from __future__ import annotations

import pkgutil
from collections.abc import Iterable
from pathlib import Path

import pytest
from report_case import AS_OF, GOLDEN, case_records
from report_packs import build

import clausewatch.reports.formats as formats_package
from clausewatch.cli import build_parser, main
from clausewatch.collectors.jsonl import write_evidence
from clausewatch.reports.formats import FORMATS, RunView
from clausewatch.reports.formats.registry import FormatRegistry
from clausewatch.reports.output import FIXED_NAMES, NotAnOutputFolder, check_replaceable
from clausewatch.reports.verify import verify

NOT_FORMATS = {"registry"}  # the one module under reports/formats/ that is not a format


def format_modules() -> set[str]:
    """Every module under reports/formats/ that should be a format."""
    return {
        f"{formats_package.__name__}.{m.name}"
        for m in pkgutil.iter_modules(formats_package.__path__)
        if m.name not in NOT_FORMATS
    }


def unregistered(modules: Iterable[str], registry: FormatRegistry) -> set[str]:
    registered = {registry.module_of(name) for name in registry.names()}
    return set(modules) - registered


def test_every_format_module_is_registered():
    modules = format_modules()
    assert len(modules) >= 5
    assert unregistered(modules, FORMATS) == set()
    # the check is not a rubber stamp: against an empty registry every module is missing
    assert unregistered(modules, FormatRegistry()) == modules


def test_formats_do_not_claim_the_run_record_or_other_fixed_files():
    assert not set(FORMATS.file_names()) & set(FIXED_NAMES)


def test_every_registered_format_is_published_into_the_folder_and_the_pack(case, tmp_path):
    pack = build(case, tmp_path / "out")
    out = pack.parent
    view = RunView.of(case.ev, case.info, records=case.records)
    in_pack = {p.name for p in (pack / "reports").iterdir()}
    assert in_pack == set(FORMATS.file_names())
    for fmt in FORMATS:
        assert (out / fmt.file_name).read_bytes() == (pack / "reports" / fmt.file_name).read_bytes()
        if fmt.name != "oscal":  # OSCAL cites the record's digests, which the view here lacks
            assert (out / fmt.file_name).read_bytes() == fmt.render(view), fmt.name


@pytest.mark.parametrize("name", FORMATS.names())
def test_every_registered_format_is_accepted_by_the_output_folder_guard(tmp_path, name):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / FORMATS[name].file_name).write_text("x")
    check_replaceable(folder)  # ours to replace
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(NotAnOutputFolder, match="notes.txt"):
        check_replaceable(folder)


def test_every_registered_format_is_described_in_the_pack_readme(case, tmp_path):
    readme = (build(case, tmp_path / "out") / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# Paquet de preuves ClauseWatch")  # the contract's language
    for fmt in FORMATS:
        row = f"| `reports/{fmt.file_name}` |"
        assert f"{row} {fmt.description['fr']} |" in readme, fmt.name
        assert f"{row} {fmt.description['en']} |" not in readme, fmt.name
    english = (build(case, tmp_path / "en", lang="en") / "README.md").read_text(encoding="utf-8")
    assert english.startswith("# ClauseWatch evidence pack") and "Paquet" not in english
    for fmt in FORMATS:
        assert f"| `reports/{fmt.file_name}` | {fmt.description['en']} |" in english, fmt.name


@pytest.mark.parametrize("command", ["evaluate", "run"])
def test_every_registered_format_is_a_format_choice_of_evaluate_and_run(
    command, capsys, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "1000")  # no wrapping inside file names
    with pytest.raises(SystemExit):
        main([command, "--help"])
    options = " ".join(capsys.readouterr().out.split()).split("options:")[1]
    line = options.split("--format {")[1].split(" --lang ")[0]  # the --format entry
    for fmt in FORMATS:
        assert fmt.name in line and f"{fmt.file_name}, {fmt.description['en']}" in line
    assert "results.json and evidence.jsonl, the run's record, are always written" in line
    required = ["--policy", "p.yaml", "--evidence", "e.jsonl"] if command == "evaluate" else []
    argv = [command, *required, "--format", "csv, HTML", "--format", "junit"]
    assert build_parser().parse_args(argv).formats == [["csv", "html"], ["junit"]]


def test_a_new_format_is_one_registration_away(case, tmp_path, monkeypatch):
    """Registering a format is all it takes for publish, the guard, the README and --format."""
    monkeypatch.setattr(FORMATS, "_formats", dict(FORMATS._formats))
    monkeypatch.setattr(FORMATS, "_modules", dict(FORMATS._modules))

    @FORMATS.register(
        "count",
        file_name="commitments.txt",
        media_type="text/plain",
        description={"en": "how many commitments were judged"},
    )
    def render(view: RunView) -> bytes:
        return f"{len(view.evaluation.outcomes)}\n".encode()

    pack = build(case, tmp_path / "out")
    assert (pack.parent / "commitments.txt").read_text() == "6\n"
    assert (pack / "reports" / "commitments.txt").is_file()
    readme = (pack / "README.md").read_text(encoding="utf-8")
    # no French description given: the English one stands in the French README
    assert readme.count("| `reports/commitments.txt` | how many commitments were judged |") == 1
    check_replaceable(pack.parent)  # the next run accepts its own folder
    assert verify(pack).ok
    args = build_parser().parse_args(["run", "--demo", "--format", "count"])
    assert args.formats == [["count"]]


def test_registry_refuses_clashes_and_bad_declarations():
    registry = FormatRegistry()

    def render(view: RunView) -> bytes:
        return b""

    registry.register("a", file_name="a.txt", media_type="text/plain",
                      description={"en": "a"})(render)  # fmt: skip
    bad = [
        dict(name="a", file_name="b.txt", description={"en": "again"}),
        dict(name="b", file_name="a.txt", description={"en": "same file"}),
        dict(name="c", file_name="reports/c.txt", description={"en": "a path"}),
        dict(name="d", file_name="d.txt", description={"fr": "no English"}),
        dict(name="e", file_name="e.txt", description={"en": "two\nlines"}),
        dict(name="F-1", file_name="f.txt", description={"en": "not a name"}),
    ]
    for case in bad:
        with pytest.raises(ValueError):
            registry.register(case["name"], file_name=case["file_name"], media_type="text/plain",
                              description=case["description"])(render)  # fmt: skip
    assert registry.names() == ["a"]
    with pytest.raises(ValueError, match="unknown output format pdf .*choose from a"):
        registry.select(["pdf"])


def _evaluate(tmp_path: Path, *extra: str) -> tuple[int, Path]:
    evidence = tmp_path / "evidence.jsonl"
    with open(evidence, "w", encoding="utf-8") as handle:
        write_evidence(case_records(), handle)
    out = tmp_path / "out"
    argv = ["evaluate", "--policy", str(GOLDEN / "contract.yaml"), "--evidence", str(evidence),
            "--as-of", AS_OF.isoformat(), "--out", str(out), *extra]  # fmt: skip
    return main(argv), out


def test_format_option_selects_the_reports_and_keeps_the_record(tmp_path):
    code, out = _evaluate(tmp_path, "--format", "csv,junit", "--format", "html")
    assert code == 3
    chosen = {"results.csv", "junit.xml", "report.html"}
    written = {p.name for p in out.iterdir() if p.is_file()}
    assert written == chosen | {"contract.yaml", "evidence.jsonl", "results.json",
                                "evidence-pack.zip"}  # fmt: skip
    pack = out / "evidence-pack"
    assert {p.name for p in (pack / "reports").iterdir()} == chosen
    readme = (pack / "README.md").read_text(encoding="utf-8")
    for fmt in FORMATS:
        assert (f"`reports/{fmt.file_name}`" in readme) == (fmt.file_name in chosen), fmt.name
    assert "`signature.json`" not in readme  # unsigned: the README describes no signature
    assert verify(pack).ok


def test_an_unknown_format_is_a_usage_error_and_writes_nothing(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        _evaluate(tmp_path, "--format", "csv,pdf")
    assert exc.value.code == 2
    assert "unknown output format pdf (choose from csv, html" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
