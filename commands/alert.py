"""``clausewatch alert test``: send a test message to each configured alert channel."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from clausewatch.alerts.config import load_alerts
from clausewatch.alerts.notify import send_test
from clausewatch.core.clock import utc_now
from clausewatch.core.run import ExitCode

NAME = "alert"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["test"], help="test: send a test message to each channel")
    p.add_argument("--alerts", required=True, type=Path, help="alerts YAML (alerts: section)")


def run(args: argparse.Namespace) -> int:
    """``alert test``: 0 when every channel took the test message, 1 otherwise."""
    config = load_alerts(args.alerts)
    console = Console()
    deliveries = send_test(config, utc_now())
    for d in deliveries:
        console.print(f"{d.channel} ({d.type}): {'ok' if d.ok else 'FAILED'} after "
                      f"{d.attempts} attempt(s): {d.detail}", markup=False, highlight=False)
    return ExitCode.OK if all(d.ok for d in deliveries) else ExitCode.INTERNAL_ERROR
