"""The terminal summary: one row per clause with status, measured vs target, worst offenders."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from clausewatch.core.evaluation import Evaluation, Outcome
from clausewatch.core.result import Status, is_offender

STYLE = {
    Status.COMPLIANT: "bold green",
    Status.AT_RISK: "bold yellow",
    Status.BREACHED: "bold red",
    Status.WAIVED: "bold cyan",
    Status.NO_EVIDENCE: "bold magenta",
}
LABEL = {
    Status.COMPLIANT: "COMPLIANT",
    Status.AT_RISK: "AT RISK",
    Status.BREACHED: "BREACHED",
    Status.WAIVED: "WAIVED",
    Status.NO_EVIDENCE: "NO EVIDENCE",
}
OFFENDERS_SHOWN = 3


def status_text(status: Status) -> Text:
    return Text(LABEL[status], style=STYLE[status])


def _measured(o: Outcome) -> str:
    v = o.verdict
    got = "n/a" if v.measured is None else f"{v.measured:.1%}"
    return f"{got} / {v.target:.0%}"


def _counts(o: Outcome) -> str:
    c = o.verdict.counts
    parts = [f"{c[s]} {LABEL[Status(s)].lower()}" for s in c if c[s] and s != Status.COMPLIANT]
    return f"{c[Status.COMPLIANT]} ok" + ("; " + ", ".join(parts) if parts else "")


def _offenders(o: Outcome) -> str:
    lines = []
    for r in o.worst(OFFENDERS_SHOWN):
        lines.append(f"{LABEL[r.status].lower()}: {r.reason}")
    hidden = sum(1 for r in o.results if is_offender(r.status)) - len(lines)
    if hidden > 0:
        lines.append(f"... and {hidden} more")
    return "\n".join(lines)


def render(ev: Evaluation, console: Console) -> None:
    """Print the summary table and the overall line."""
    k = ev.contract
    table = Table(
        title=f"{k.title} — {k.provider} for {k.customer}",
        caption=f"as of {ev.as_of.isoformat()} · {ev.evidence_count} evidence records"
        + (f" · {len(ev.errors)} collection error(s)" if ev.errors else ""),
        box=box.SIMPLE_HEAVY,
        show_lines=True,
        expand=True,
    )
    table.add_column("Clause", no_wrap=True)
    table.add_column("Commitment", ratio=2)
    table.add_column("Party", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("Measured / target", no_wrap=True, justify="right")
    table.add_column("Subjects", ratio=1)
    table.add_column("Worst offenders", ratio=4)
    for o in ev.outcomes:
        table.add_row(
            o.commitment.clause,
            o.commitment.title,
            str(o.commitment.responsible),
            status_text(o.verdict.status),
            _measured(o),
            _counts(o),
            _offenders(o),
        )
    console.print(table)
    for e in ev.errors:
        console.print(
            Text(f"collection error: {e.source} {e.origin}: {e.message}", style="magenta")
        )
    expired = [w for w in ev.waivers if w.status == "expired"]
    for w in expired:
        console.print(
            Text(
                f"waiver expired {w.waiver.expires}: {w.waiver.commitment} "
                f"({', '.join(w.waiver.subjects)}) no longer applies",
                style="yellow",
            )
        )
    overall = Text("Overall: ")
    overall.append_text(status_text(ev.status))
    if ev.partial:
        overall.append("  (partial run: some evidence could not be collected)", style="magenta")
    console.print(overall)
