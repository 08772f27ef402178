"""The demo's contract: the French example, with its waiver dates kept relative to today.

The example was written on ``ANCHOR``; the demo moves every date of its ``waivers:`` section by
the days since, so one waiver is always in force and the other always expired.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from importlib import resources

ANCHOR = date(2026, 11, 22)
EXAMPLE = "infogerance-fr.yaml"
#: The language EXAMPLE declares (its ``language:``), known before it is loaded: the demo's
#: progress speaks it from the first stage.
LANGUAGE = "fr"
_DATE = re.compile(r'"(\d{4}-\d{2}-\d{2})"')


def demo_contract_text(today: date) -> str:
    """The example contract's text with waiver dates shifted to stay relative to ``today``."""
    text = resources.files("clausewatch.policies.examples").joinpath(EXAMPLE).read_text("utf-8")
    head, sep, waivers = text.partition("\nwaivers:")
    shift = today - ANCHOR

    def move(match: re.Match[str]) -> str:
        return f'"{(date.fromisoformat(match.group(1)) + shift).isoformat()}"'

    return head + sep + _DATE.sub(move, waivers)


def shifted(day: date, today: date) -> date:
    """Where ``day`` of the example lands in the demo contract for ``today``."""
    return day + timedelta(days=(today - ANCHOR).days)
