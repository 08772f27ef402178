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
    prefixes = {vendor!r} + tuple(f"clausewatch.collectors.{{c}}" for c in {collectors!r})
    loaded = sorted(m for m in sys.modules if any(m == p or m.startswith(p + ".")
                                                 for p in prefixes))
    print(json.dumps(loaded))
""")


def loaded_after(body: str) -> list[str]:
    """The vendor modules in ``sys.modules`` after running ``body`` in a fresh interpreter."""
    code = PROBE.format(body=textwrap.indent(textwrap.dedent(body), "").strip(),
                        vendor=VENDOR, collectors=VENDOR_COLLECTORS)
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


def test_evaluate_from_file_loads_no_vendor_sdk(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(CONTRACT, encoding="utf-8")
    (tmp_path / "e.jsonl").write_text(json.dumps({
        "kind": "asset", "source": "rmm", "subject": "srv-1",
        "observed_at": "2026-11-22T05:00:00Z",
        "facts": {"asset_kind": "server", "patch_assessed_at": "2026-11-22T05:00:00Z"}}) + "\n",
        encoding="utf-8")
    out = tmp_path / "out"
    args = ["evaluate", "--policy", str(tmp_path / "c.yaml"), "--evidence",
            str(tmp_path / "e.jsonl"), "--as-of", "2026-11-22T06:00:00Z", "--out", str(out),
            "--history", str(tmp_path / "h.sqlite")]
    assert loaded_after(f"act(lambda: main({args!r}))") == []
    assert (out / "results.json").is_file()  # the run really ran


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
