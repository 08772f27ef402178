"""Chart geometry for the period report (inline SVG drawn by ``templates/period.html.j2``).

Three charts: a status strip (one row per clause, one cell per night, coloured by the verdict),
a daily line of the share of subjects in compliance against the target for each clause, and the
trend of nights in compliance over the last periods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from clausewatch.history.attainment import CommitmentAttainment, PeriodAttainment

LABEL_W = 110
CELL = 14
LINE_W, LINE_H = 300, 70


@dataclass(frozen=True, slots=True)
class Cell:
    x: float
    day: date
    status: str  # a status, or "none" when no run that night


@dataclass(frozen=True, slots=True)
class StripRow:
    clause: str
    y: float
    cells: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class Strip:
    rows: tuple[StripRow, ...]
    width: float
    height: float
    cell: int
    label_w: int
    ticks: tuple[tuple[float, str], ...]


@dataclass(frozen=True, slots=True)
class Line:
    clause: str
    title: str
    points: str  # SVG polyline points
    dots: tuple[tuple[float, float, str], ...]
    target_y: float
    width: int
    height: int
    last: float | None


@dataclass(frozen=True, slots=True)
class TrendBar:
    label: str
    x: float
    y: float
    height: float
    share: float | None


@dataclass(frozen=True, slots=True)
class Trend:
    clause: str
    bars: tuple[TrendBar, ...]
    width: int
    height: int


def strip(att: PeriodAttainment) -> Strip:
    days = att.period.days()
    rows = []
    for i, c in enumerate(att.commitments):
        by_day = {n.day: n for n in c.nights}
        cells = tuple(
            Cell(
                x=LABEL_W + j * CELL,
                day=d,
                status=str(by_day[d].status) if d in by_day and by_day[d].status else "none",
            )
            for j, d in enumerate(days)
        )
        rows.append(StripRow(clause=c.commitment.clause, y=4 + i * (CELL + 4), cells=cells))
    ticks = tuple(
        (LABEL_W + j * CELL + CELL / 2, d.strftime("%d"))
        for j, d in enumerate(days)
        if d.day in (1, 8, 15, 22, 29) or (att.period.kind == "quarter" and d.day == 1)
    )
    return Strip(
        rows=tuple(rows),
        width=LABEL_W + len(days) * CELL + 4,
        height=8 + len(rows) * (CELL + 4) + 14,
        cell=CELL,
        label_w=LABEL_W,
        ticks=ticks,
    )


def line(att: PeriodAttainment, c: CommitmentAttainment) -> Line:
    days = att.period.days()
    step = LINE_W / max(1, len(days) - 1)
    index = {d: i for i, d in enumerate(days)}
    pts = []
    dots = []
    for n in c.nights:
        share = n.share
        if share is None:
            continue
        x = round(index[n.day] * step, 1)
        y = round(LINE_H - share * LINE_H, 1)
        pts.append(f"{x},{y}")
        dots.append((x, y, str(n.status) if n.status else "none"))
    shares = [n.share for n in c.nights if n.share is not None]
    return Line(
        clause=c.commitment.clause,
        title=c.commitment.title,
        points=" ".join(pts),
        dots=tuple(dots),
        target_y=round(LINE_H - c.commitment.target * LINE_H, 1),
        width=LINE_W,
        height=LINE_H,
        last=shares[-1] if shares else None,
    )


def trends(history: Sequence[PeriodAttainment]) -> list[Trend]:
    """Nights in compliance per clause over ``history`` (oldest period first)."""
    if not history:
        return []
    width, height, bar = 220, 60, 26
    out = []
    for i, c in enumerate(history[-1].commitments):
        bars = []
        for j, att in enumerate(history):
            share = att.commitments[i].night_share if i < len(att.commitments) else None
            h = (share or 0) * height
            bars.append(TrendBar(label=att.period.label, x=j * (bar + 10), y=height - h,
                                 height=h, share=share))
        out.append(Trend(clause=c.commitment.clause, bars=tuple(bars), width=width,
                         height=height))
    return out
