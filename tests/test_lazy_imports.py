"""Start-up stays light: ``--help``, ``evaluate`` from a file and an AWS-only sources file load
no Microsoft 365 or Google SDK code (the catalogue imports a source type only when used)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

#: Top-level packages of the vendor SDKs a run that does not use them must never import.
VENDOR = ("msgraph", "kiota_abstractions", "kiota_http", "azure", "msal", "google.cloud",
          "google.auth", "googleapiclient")
#: ClauseWatch's own collectors built on those SDKs.
VENDOR_COLLECTORS = ("m365", "google", "gcp", "workspace", "defender")

PROBE = textwrap.dedent("""\
    import contextlib, io, json, sys
    from clausewatch.cli import build_parser, main
    def act(step):
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                return step()
            except SystemExit:
                return None
    {body}
    prefixes = {prefixes!r}
    loaded = sorted(m for m in sys.modules if any(m == p or m.startswith(p + ".")
                                                 for p in prefixes))
    print(json.dumps(loaded))
""")


#: What ``--help`` alone must not load: the alert channels and their HTTP client, the commands'
#: own modules, and what only a run needs (history, evidence pack, templates).
RUN_ONLY = ("httpx", "clausewatch.alerts", "clausewatch.commands.common", "jinja2",
            "clausewatch.history", "clausewatch.reports.evidence_pack",
            *(f"clausewatch.commands.{c}" for c in ("alert", "attest", "evaluate", "run",
                                                     "verify", "keygen", "report", "validate")))


def loaded_after(body: str, prefixes: tuple[str, ...] | None = None) -> list[str]:
    """The modules under ``prefixes`` (default: the vendor SDKs and their collectors) in
    ``sys.modules`` after running ``body`` in a fresh interpreter."""
    if prefixes is None:
        prefixes = VENDOR + tuple(f"clausewatch.collectors.{c}" for c in VENDOR_COLLECTORS)
    code = PROBE.format(body=textwrap.indent(textwrap.dedent(body), "").strip(),
                        prefixes=prefixes)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_probe_sees_a_vendor_import() -> None:
    """The probe itself works: importing the Microsoft 365 source is seen."""
    loaded = loaded_after("import clausewatch.collectors.m365.source")
    assert "msgraph" in loaded
    assert "clausewatch.collectors.m365.source" in loaded


def test_help_loads_no_vendor_sdk() -> None:
    assert loaded_after("act(lambda: build_parser().parse_args(['--help']))") == []


def test_help_loads_no_command_module_nor_alert_channel() -> None:
    """``clausewatch --help`` lists every command from ``commands.COMMANDS`` alone: no
    command's module, alert channel, httpx or history code is imported (each was, 0.4 s)."""
    assert loaded_after("act(lambda: main(['--help']))", VENDOR + RUN_ONLY) == []
    # the probe sees them: the command chosen is loaded, with what it imports
    assert "clausewatch.commands.alert" in loaded_after("act(lambda: main(['alert', '--help']))",
                                                        RUN_ONLY)


def test_a_light_command_loads_no_run_code() -> None:
    """``clausewatch checks`` imports its own module: the exceptions the CLI turns into exit
    codes (history, evidence pack, outputs) are imported only once one is raised."""
    assert loaded_after("act(lambda: main(['checks']))",
                        ("httpx", "clausewatch.alerts", "clausewatch.history", "jinja2",
                         "clausewatch.reports.evidence_pack", "clausewatch.commands.common")) == []


def test_evaluate_parser_and_help_load_no_vendor_sdk() -> None:
    assert loaded_after("""act(lambda: build_parser().parse_args(
        ['evaluate', '--policy', 'c.yaml', '--evidence', 'e.jsonl']))
act(lambda: build_parser().parse_args(['evaluate', '--help']))""") == []


CONTRACT = """\
contract:
  id: k
  title: Test MSA
  provider: MSP
  customer: ACME
  effective_from: "2026-01-01"
  timezone: Europe/Paris
commitments:
  - id: patch-prod
    clause: "MSA 7.2"
    title: Critical patches within 7 days
    check: patch_lag
    responsible: provider
    params: {deadlines_days: {critical: 7}}
    target: 100%
"""


def write_server_estate(tmp_path: Path) -> None:
    """``c.yaml`` (CONTRACT) and ``e.jsonl``: one server, its patches assessed an hour ago."""
    (tmp_path / "c.yaml").write_text(CONTRACT, encoding="utf-8")
    (tmp_path / "e.jsonl").write_text(json.dumps({
        "kind": "asset", "source": "rmm", "subject": "srv-1",
        "observed_at": "2026-11-22T05:00:00Z",
        "facts": {"asset_kind": "server", "patch_assessed_at": "2026-11-22T05:00:00Z"}}) + "\n",
        encoding="utf-8")


def test_evaluate_from_file_loads_no_vendor_sdk(tmp_path: Path) -> None:
    write_server_estate(tmp_path)
    out = tmp_path / "out"
    args = ["evaluate", "--policy", str(tmp_path / "c.yaml"), "--evidence",
            str(tmp_path / "e.jsonl"), "--as-of", "2026-11-22T06:00:00Z", "--out", str(out),
            "--history", str(tmp_path / "h.sqlite")]
    # nor the sources file's code (the collectors' catalogue and their schemas): `run` only
    assert loaded_after(f"act(lambda: main({args!r}))", (
        *VENDOR, *(f"clausewatch.collectors.{c}" for c in VENDOR_COLLECTORS),
        "clausewatch.pipeline.sources_file", "clausewatch.collectors.catalogue")) == []
    assert (out / "results.json").is_file()  # the run really ran


#: What ``evaluate`` without ``--out``, ``--history`` or ``--alerts`` must not load: the alert
#: channels and their HTTP client, jsonschema (a valid contract is confirmed by jsonschema_rs
#: alone), the pack's writer and Ed25519, Jinja and the history's standing (~0.3 s, issue 16).
WRITES_ONLY = ("httpx", "jsonschema", "cryptography", "jinja2", "clausewatch.alerts",
               "clausewatch.reports.evidence_pack", "clausewatch.reports.publish",
               "clausewatch.reports.pack_zip", "clausewatch.reports.signing",
               "clausewatch.pipeline.sources_file")


def test_plain_evaluate_loads_no_alert_pack_schema_or_template_code(tmp_path: Path) -> None:
    """``clausewatch evaluate`` to the terminal (no outputs, history nor alerts) judges the
    evidence without loading what only writing, recording or alerting needs; the probe sees
    them as soon as ``--out`` asks for the outputs."""
    write_server_estate(tmp_path)
    args = ["evaluate", "--policy", str(tmp_path / "c.yaml"), "--evidence",
            str(tmp_path / "e.jsonl"), "--as-of", "2026-11-22T06:00:00Z"]
    # the run really ran and judged: the server's assessment, nothing missing (exit 0)
    body = f"code = act(lambda: main({args!r}))\nassert code == 0, code"
    assert loaded_after(body, WRITES_ONLY) == []
    written = loaded_after(f"act(lambda: main({[*args, '--out', str(tmp_path / 'out')]!r}))",
                           WRITES_ONLY)
    assert {"jinja2", "cryptography", "clausewatch.reports.evidence_pack"} <= set(written)
    assert (tmp_path / "out" / "results.json").is_file()


def test_aws_only_evaluate_loads_no_microsoft_or_google_code(tmp_path: Path) -> None:
    """Evaluating AWS records (``aws.ssm`` patch states of an EC2 instance) through ``main``
    loads no Microsoft 365 or Google SDK or collector, nor the other commands' modules."""
    (tmp_path / "c.yaml").write_text(CONTRACT, encoding="utf-8")
    records = [
        {"kind": "asset", "source": "aws.ec2", "subject": "i-0abc", "origin": "aws/1/eu-west-3",
         "observed_at": "2026-11-22T05:00:00Z",
         "facts": {"asset_kind": "server", "patch_assessed_at": "2026-11-22T05:00:00Z"}},
        {"kind": "patch", "source": "aws.ssm", "subject": "i-0abc", "origin": "aws/1/eu-west-3",
         "observed_at": "2026-11-22T05:00:00Z",
         "facts": {"update_id": "KB1", "severity": "critical", "state": "missing",
                   "released_at": "2026-11-01T00:00:00Z"}},
    ]
    (tmp_path / "e.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records),
                                      encoding="utf-8")
    args = ["evaluate", "--policy", str(tmp_path / "c.yaml"), "--evidence",
            str(tmp_path / "e.jsonl"), "--as-of", "2026-11-22T06:00:00Z",
            "--out", str(tmp_path / "out")]
    others = tuple(f"clausewatch.commands.{c}" for c in ("alert", "attest", "verify", "keygen"))
    assert loaded_after(f"act(lambda: main({args!r}))", None) == []
    assert loaded_after(f"act(lambda: main({args!r}))", others) == []
    assert '"status": "breached"' in (tmp_path / "out" / "results.json").read_text()


def test_aws_only_sources_file_loads_no_microsoft_or_google_code(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text("version: 1\nsources:\n  aws:\n    - {name: prod, regions: [eu-west-3]}\n",
                       encoding="utf-8")
    loaded = loaded_after(f"""from clausewatch.pipeline.sources_file import load_sources
config = load_sources({str(sources)!r})
assert list(config.entries) == ['aws']""")
    assert loaded == []


def test_unknown_section_still_refused(tmp_path: Path) -> None:
    """Validating only the sections named does not let an unknown section through."""
    import pytest

    from clausewatch.core.problems import InputError
    from clausewatch.pipeline.sources_file import load_sources

    sources = tmp_path / "sources.yaml"
    sources.write_text("version: 1\nsources:\n  aws:\n    - {name: prod, regions: [eu-west-3]}\n"
                       "  nosuch:\n    - {name: x}\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_sources(sources)
    assert "nosuch" in str(caught.value.problems[0])


def test_help_loads_no_aws_sdk() -> None:
    """boto3 comes with the S3 archive (``pipeline.archive``) only when a pack is archived or
    fetched: ``--help`` and the CLI's start-up do not pay for it."""
    code = textwrap.dedent("""\
        import contextlib, io, sys
        from clausewatch.cli import build_parser
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                build_parser().parse_args(['--help'])
            except SystemExit:
                pass
        print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    assert done.stdout.strip() == "[]"


def test_the_command_named_parses_as_with_every_command_loaded() -> None:
    """``cli.named`` reads the command as argparse does; where it cannot tell, every command is
    loaded: a command line parses the same either way."""
    import pytest

    from clausewatch.cli import EVERY, build_parser, named

    assert named(["-v", "--color", "never", "run", "--demo"]) == "run"
    assert named(["--color=always", "-q", "evaluate"]) == "evaluate"
    assert named(["--help"]) is None
    assert named(["-vq", "run"]) == EVERY and named(["--col", "never", "run"]) == EVERY
    assert named(["nosuch"]) == EVERY
    for argv in (["-v", "run", "--demo", "--as-of", "2026-11-22T06:00:00Z"],
                 ["--color", "never", "checks"], ["report", "--period", "2026-10", "-q"],
                 ["--color=never", "verify", "pack.zip", "--integrity-only"]):
        alone = build_parser(named(argv)).parse_args(argv)
        assert alone == build_parser(EVERY).parse_args(argv)
    with pytest.raises(SystemExit):
        build_parser(named(["run", "--nosuch"])).parse_args(["run", "--nosuch"])
