"""Exit 7: every misconfigured source named with its fix, nothing collected, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from clausewatch.cli import main
from clausewatch.core.run import ExitCode

CONTRACT = Path(__file__).parent / "fixtures" / "m365" / "contract.yaml"


def test_misconfigured_sources_exit_7_naming_each_and_writing_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SESSION_TOKEN",
                "MOREL_GRAPH_SECRET", "VBR01_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    (tmp_path / "sources.yaml").write_text("""version: 1
sources:
  aws:
    - {name: prod, regions: [eu-west-3]}
  m365:
    - {name: morel, tenant_id: 11111111-1111-1111-1111-111111111111, client_id: app,
       client_secret_env: MOREL_GRAPH_SECRET, collect: [entra]}
  veeam:
    - {name: vbr01, url: "https://127.0.0.1:9419", username: svc, password_env: VBR01_PASSWORD}
""")
    out, history = tmp_path / "out", tmp_path / "history.sqlite"
    code = main(["run", "--policy", str(CONTRACT), "--sources", str(tmp_path / "sources.yaml"),
                 "--out", str(out), "--history", str(history)])
    err = capsys.readouterr().err
    assert code == ExitCode.CONFIGURATION == 7
    lines = [line for line in err.splitlines() if line.startswith("clausewatch: ")]
    assert lines == [
        "clausewatch: aws source 'prod': no credentials found (the default credential chain); "
        "set AWS_PROFILE or the entry's 'profile', or AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY, or run where an instance or task role is attached",
        "clausewatch: m365 source 'morel': environment variable MOREL_GRAPH_SECRET "
        "(client_secret_env) is not set; export MOREL_GRAPH_SECRET with the application's "
        "client secret",
        "clausewatch: veeam source 'vbr01': environment variable VBR01_PASSWORD (password_env) "
        "is not set; export VBR01_PASSWORD with the password of svc",
    ]
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".out*"))
    assert not history.exists()  # no run recorded: a broken set-up is not a night's evidence
