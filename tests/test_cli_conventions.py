"""Command-line conventions: --version, global options on either side of the command, help for
every argument, colour and width in a pipe, ``report`` finding the nightly history, an empty
period, the CSV dialect."""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli import AS_OF, CONTRACT, asset_line, patch_line

from clausewatch.cli import build_parser, main
from clausewatch.core.run import tool_version

ESC = "\x1b["
SOURCES = "version: 1\n{history}sources:\n  aws:\n    - name: a\n      regions: [eu-west-3]\n"


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    policy = tmp_path / "contract.yaml"
    policy.write_text(CONTRACT)
    evidence = tmp_path / "e.jsonl"
    lines = [asset_line(f"srv-{n:02d}") for n in range(12)]
    lines += [patch_line(f"srv-{n:02d}", "2026-11-01T00:00:00Z") for n in range(0, 12, 2)]
    evidence.write_text("\n".join(lines) + "\n")
    return policy, evidence


def evaluate(policy: Path, evidence: Path, *extra: str) -> int:
    return main(["evaluate", "--policy", str(policy), "--evidence", str(evidence),
                 "--as-of", AS_OF, *extra])


def test_version():
    done = subprocess.run([sys.executable, "-m", "clausewatch", "--version"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout == f"clausewatch {tool_version()}\n"


def walk(parser: argparse.ArgumentParser, path: str = "clausewatch"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from walk(sub, f"{path} {name}")
        yield path, action


def test_every_argument_has_help():
    missing = [f"{path}: {action.option_strings or action.dest}"
               for path, action in walk(build_parser())
               if not action.help or action.help == argparse.SUPPRESS]
    assert missing == []
    commands = {path for path, _ in walk(build_parser())}
    assert {"clausewatch run", "clausewatch report", "clausewatch verify"} <= commands


@pytest.mark.parametrize("where", ["before", "after"])
def test_global_options_on_either_side_of_the_command(inputs, capsys, where):
    policy, evidence = inputs
    args = ["evaluate", "--policy", str(policy), "--evidence", str(evidence), "--as-of", AS_OF]
    options = ["--quiet", "--color", "always", "-v"]
    argv = [*options, *args] if where == "before" else [*args, *options]
    assert main(argv) == 3
    out = capsys.readouterr()
    assert out.out == "Overall: \x1b[1;31mBREACHED\x1b[0m\n"  # quiet, coloured though piped
    parsed = build_parser().parse_args(argv)
    assert (parsed.quiet, parsed.color, parsed.verbose) == (True, "always", True)
    # given before the command, the command's own defaults do not reset them
    parsed = build_parser().parse_args(["--color", "never", *args])
    assert (parsed.color, parsed.quiet) == ("never", False)


def test_a_pipe_gets_80_columns_without_colour(inputs, capsys, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    policy, evidence = inputs
    assert evaluate(policy, evidence) == 3
    out = capsys.readouterr().out
    assert ESC not in out
    lines = out.splitlines()
    assert max(len(x) for x in lines) <= 80
    assert any(re.match(r"^BREACHED +MSA §7\.2 +50\.0%/100% +6 ok, 6 breached", x)
               for x in lines)
    assert "    ... and 3 more" in lines
    assert lines[-1] == "Overall: BREACHED"


def test_the_summary_goes_to_stdout_and_progress_never_to_a_pipe(inputs, tmp_path):
    policy, evidence = inputs
    done = subprocess.run([sys.executable, "-m", "clausewatch", "evaluate", "--policy",
                           str(policy), "--evidence", str(evidence), "--as-of", AS_OF, "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, check=False)
    assert done.returncode == 3
    assert done.stderr == ""  # no spinner frames in a cron log
    assert ESC not in done.stdout and "Overall: BREACHED" in done.stdout


def history_with_a_november_run(inputs, history: Path) -> None:
    policy, evidence = inputs
    assert evaluate(policy, evidence, "--history", str(history)) == 3


def test_report_finds_the_history_where_run_writes_it(inputs, tmp_path, capsys):
    conf = tmp_path / "conf"
    conf.mkdir()
    named = conf / "sources.yaml"
    named.write_text(SOURCES.format(history="history: state/h.sqlite\n"))
    plain = conf / "plain.yaml"
    plain.write_text(SOURCES.format(history=""))
    (conf / "state").mkdir()
    history_with_a_november_run(inputs, conf / "state" / "h.sqlite")
    history_with_a_november_run(inputs, conf / "clausewatch-history.sqlite")
    capsys.readouterr()
    for sources in (named, plain):
        out = tmp_path / f"out-{sources.stem}"
        code = main(["report", "--period", "2026-11", "--sources", str(sources), "--out",
                     str(out)])
        assert code == 0, capsys.readouterr().err
        assert (out / "period-2026-11.md").is_file()
    # the flag still wins
    assert main(["report", "--period", "2026-11", "--sources", str(named), "--history",
                 str(tmp_path / "none.sqlite")]) == 2
    assert "no history store at" in capsys.readouterr().err


def test_report_on_a_period_without_runs_says_so_and_exits_4(inputs, tmp_path, capsys):
    history = tmp_path / "h.sqlite"
    history_with_a_november_run(inputs, history)
    capsys.readouterr()
    out = tmp_path / "out"
    assert main(["report", "--period", "2026-10", "--history", str(history), "--out",
                 str(out)]) == 4
    err = capsys.readouterr().err
    assert "no run of contract k in 2026-10" in err
    assert "holds runs from 2026-11-22 to 2026-11-22" in err and "no report written" in err
    assert not out.exists()


def test_csv_dialects(inputs, tmp_path):
    policy, evidence = inputs
    assert evaluate(policy, evidence, "--out", str(tmp_path / "a"), "--format", "csv") == 3
    assert evaluate(policy, evidence, "--out", str(tmp_path / "b"), "--format", "csv",
                    "--csv-dialect", "excel-fr") == 3
    plain = (tmp_path / "a" / "results.csv").read_bytes()
    french = (tmp_path / "b" / "results.csv").read_bytes()
    assert not plain.startswith(b"\xef\xbb\xbf") and plain.startswith(b"commitment_id,clause,")
    assert french.startswith(b"\xef\xbb\xbfcommitment_id;clause;")
    rows_a = list(csv.reader(io.StringIO(plain.decode("utf-8"))))
    rows_b = list(csv.reader(io.StringIO(french.decode("utf-8-sig")), delimiter=";"))
    assert rows_a == rows_b and len(rows_a) == 13
    assert json.loads(rows_a[1][rows_a[0].index("measured")])["overdue"] == 1


def test_the_summary_follows_lang(inputs, capsys):
    """An English contract's summary in French when asked (``--lang`` also picks the reports')."""
    policy, evidence = inputs
    assert evaluate(policy, evidence, "--quiet", "--lang", "fr") == 3
    assert capsys.readouterr().out == "État global\u00a0: NON CONFORME\n"
    assert evaluate(policy, evidence, "--lang", "fr") == 3
    out = capsys.readouterr().out
    assert re.search(r"^NON CONFORME +MSA §7\.2 +50,0\u00a0%/100\u00a0% +6 conformes, "
                     r"6 non conformes", out, re.M)
    assert "    … et 3 autres\n" in out and "Overall" not in out
