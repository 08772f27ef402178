"""The alerts file: validated with located problems; ``clausewatch alert test`` end to end."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from clausewatch.alerts.config import load_alerts
from clausewatch.alerts.events import EventKind
from clausewatch.cli import main
from clausewatch.core.problems import InputError

GOOD = """\
alerts:
  reminder_days: 3
  waiver_warning_days: 30
  retry: {attempts: 2, initial_wait_seconds: 0, max_wait_seconds: 0}
  channels:
    - name: ops
      type: webhook
      url_env: OPS_HOOK
    - name: mail
      type: email
      host: smtp.example.org
      from: clausewatch@example.org
      to: [dsi@example.org]
      events: [breached, cured]
"""


def test_a_valid_file(tmp_path):
    path = tmp_path / "alerts.yaml"
    path.write_text(GOOD)
    cfg = load_alerts(path)
    assert (cfg.rules.reminder_days, cfg.rules.waiver_warning_days) == (3, 30)
    assert [c.name for c in cfg.channels] == ["ops", "mail"]
    assert cfg.channels[1].events == {EventKind.BREACHED, EventKind.CURED}
    assert cfg.channels[0].wants(EventKind.REMINDER) and not cfg.channels[1].wants(
        EventKind.AT_RISK)
    assert cfg.retry.attempts == 2 and cfg.base_dir == tmp_path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("url_env: OPS_HOOK", "url: https://hooks.example/x"),
         "alerts.yaml:6:7: alerts.channels[0]: 'url_env' is required"),
        (GOOD.replace("type: webhook", "type: msteams"),
         "alerts.yaml:7:13: alerts.channels[0].type: 'msteams' is not one of"),
        (GOOD.replace("OPS_HOOK", "https://hooks.slack.com/x"),
         "alerts.yaml:8:16: alerts.channels[0].url_env: 'https://hooks.slack.com/x' does not "
         "match"),
        (GOOD.replace("name: mail", "name: ops"),
         "alerts.yaml:9:13: alerts.channels[1].name: duplicate channel name 'ops'"),
        (GOOD.replace("events: [breached, cured]", "events: [breached, fixed]"),
         "alerts.yaml:14:26: alerts.channels[1].events[1]: 'fixed' is not one of"),
    ],
)
def test_problems_name_file_and_line(tmp_path, monkeypatch, text, expected):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "alerts.yaml").write_text(text)
    with pytest.raises(InputError) as info:
        load_alerts("alerts.yaml")
    assert str(info.value.problems[0]).startswith(expected), str(info.value)


def test_cli_alert_test_reports_each_channel(tmp_path, monkeypatch, capsys):
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("OPS_HOOK", f"http://127.0.0.1:{httpd.server_address[1]}/t0ken")
        path = tmp_path / "alerts.yaml"
        path.write_text(GOOD.replace("host: smtp.example.org", "host: 127.0.0.1\n      port: 9"))
        code = main(["alert", "test", "--alerts", str(path)])
    finally:
        httpd.shutdown()
        httpd.server_close()
    out = capsys.readouterr().out
    assert code == 1  # the mail channel points at a closed port
    assert "ops (webhook): ok after 1 attempt(s): HTTP 204" in out
    assert "mail (email): FAILED after 2 attempt(s): ConnectionRefusedError" in out
    assert "t0ken" not in out
    assert received[0]["events"][0]["kind"] == "test"


def test_cli_rejects_a_bad_alerts_file_with_exit_2(tmp_path, capsys):
    path = tmp_path / "alerts.yaml"
    path.write_text("alerts: {channels: []}\n")
    assert main(["alert", "test", "--alerts", str(path)]) == 2
    assert "alerts.channels: [] should be non-empty" in capsys.readouterr().err
