"""The terminal summary: one line per clause, its worst offenders indented below, an overall line.

Written for an 80-column terminal and for cron logs alike: every line is laid out here to fit the
console's width, so rich never wraps a cell. Statuses, clause ids and figures are atoms that are
never split (a line that cannot hold the next atom continues on an indented line); free text
(reasons, error summaries) wraps at spaces with a hanging indent, never at a no-break space.
Colour only on a terminal, unless asked (``--color``); ``NO_COLOR`` is honoured
(https://no-color.org/).

The words are gettext messages (``summary_*``, ``status_*``, ``count.*`` in
``core/messages.py``), in the contract's language unless ``--lang`` says otherwise; figures,
dates and plurals come from Babel (:class:`~clausewatch.core.i18n.Catalogue`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO
from zoneinfo import ZoneInfo

from babel.numbers import format_percent
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from clausewatch.core.errortext import error_summary
from clausewatch.core.evaluation import Evaluation, Outcome
from clausewatch.core.i18n import Catalogue, pick_language
from clausewatch.core.result import Status, is_offender

STYLE = {
    Status.COMPLIANT: "bold green",
    Status.AT_RISK: "bold yellow",
    Status.BREACHED: "bold red",
    Status.WAIVED: "bold cyan",
    Status.NO_EVIDENCE: "bold magenta",
}
#: The order of the per-status counts after the compliant one.
COUNTED = (Status.BREACHED, Status.NO_EVIDENCE, Status.AT_RISK, Status.WAIVED)
NA = "-"  # a share that could not be measured (a symbol, the same in every language)
_SPACE = re.compile(r"[ \t\n\r\f\v]+")  # ASCII white space only: no-break spaces hold


@dataclass(frozen=True, slots=True)
class Words:
    """The summary's words in one language: the catalogue and the status labels (capitals)."""

    cat: Catalogue
    label: Mapping[Status, str]
    status_width: int

    @classmethod
    def of(cls, lang: str) -> Words:
        cat = Catalogue(lang)
        label = {s: cat.status(s.value).upper() for s in Status}
        return cls(cat, label, max(cell_len(v) for v in label.values()))


def words_for(ev: Evaluation, lang: str | None = None) -> Words:
    """``lang`` if given, else the contract's language, else English."""
    return Words.of(pick_language(lang, ev.contract.language))


#: Columns used when the output is not a terminal (a pipe, a cron log) and COLUMNS is unset.
PIPE_WIDTH = 80
OFFENDERS_SHOWN = 3  # per clause
ERRORS_SHOWN = 5
REASON_LINES = 3  # an offender's reason wraps onto at most this many lines
CLAUSE_WIDTH = 24  # clause ids longer than this push the line's other atoms right
INDENT = "    "
COLOR_CHOICES = ("auto", "always", "never")


def make_console(
    color: str = "auto",
    *,
    stderr: bool = False,
    file: IO[str] | None = None,
    env: Mapping[str, str] = os.environ,
) -> Console:
    """A console for the summary or for progress.

    ``color``: ``auto`` colours a terminal only (and never when ``NO_COLOR`` is set),
    ``always`` colours even a pipe (and overrides ``NO_COLOR``, as the convention allows for an
    explicit option), ``never`` never does. The width is the terminal's; not on a terminal it is
    ``COLUMNS`` if set, else :data:`PIPE_WIDTH`.
    """
    if color not in COLOR_CHOICES:
        raise ValueError(f"--color must be one of {', '.join(COLOR_CHOICES)}")
    probe = Console(stderr=stderr, file=file)
    on_tty = probe.is_terminal
    width = None if on_tty else _pipe_width(env)
    if color == "always":
        return Console(stderr=stderr, file=file, force_terminal=True, no_color=False,
                       width=width or probe.width, highlight=False)
    if color == "never":
        return Console(stderr=stderr, file=file, color_system=None, no_color=True,
                       width=width, highlight=False)
    return Console(stderr=stderr, file=file, width=width, highlight=False,
                   no_color=bool(env.get("NO_COLOR")) or None)


def _pipe_width(env: Mapping[str, str]) -> int:
    text = env.get("COLUMNS", "")
    return int(text) if text.isdigit() and 20 <= int(text) <= 1000 else PIPE_WIDTH


# --- layout --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Atom:
    """A piece of a line that is never split: a status, a clause id, a figure."""

    text: str
    style: str = ""
    pad: int = 0  # pad to this many cells (column alignment) when not last on its line


def lay_out(atoms: Sequence[Atom], width: int, indent: int, gap: int = 1) -> list[Text]:
    """Atoms on lines of at most ``width`` cells, ``gap`` spaces apart; an atom that does not
    fit starts a continuation line indented by ``indent``. An atom wider than a whole line is
    cut with '…'."""
    lines: list[Text] = []
    line = Text()
    used = 0
    for atom in atoms:
        text = atom.text
        if cell_len(text) > width - indent:
            text = _cut(text, width - indent)
        if used and used + gap + cell_len(text) > width:
            lines.append(line)
            line, used = Text(" " * indent), indent
        elif used:
            line.append(" " * gap)
            used += gap
        line.append(text, style=atom.style)
        used += cell_len(text)
        if atom.pad > cell_len(text):
            line.append(" " * (atom.pad - cell_len(text)))
            used += atom.pad - cell_len(text)
    if used:
        lines.append(line)
    return [_rstrip(t, width) for t in lines]


def wrap(text: str, width: int, first: int, indent: int, max_lines: int | None = None) -> \
        list[str]:
    """``text`` wrapped at spaces: the first line has ``width - first`` cells (the caller puts
    its lead before it), the next ones start with ``indent`` spaces; a word wider than a line is
    folded; past ``max_lines`` the last line ends with '…'."""
    lines: list[str] = []
    current = ""
    for word in _SPACE.split(text.strip(" \t\n\r\f\v")):
        room = width - (first if not lines else indent)
        candidate = f"{current} {word}" if current else word
        if cell_len(candidate) <= room:
            current = candidate
            continue
        if current:
            lines.append(current)
            room = width - indent
        current = word
        while cell_len(current) > room:
            head, current = _fold(current, room)
            lines.append(head)
            room = width - indent
    lines.append(current)
    if max_lines is not None and len(lines) > max_lines:
        room = width - (first if max_lines == 1 else indent)
        lines = [*lines[: max_lines - 1], _cut(lines[max_lines - 1] + " …", room)]
    return [lines[0], *(" " * indent + line for line in lines[1:])]


def _fold(word: str, room: int) -> tuple[str, str]:
    cut = max(1, room)
    while cell_len(word[:cut]) > room and cut > 1:
        cut -= 1
    return word[:cut], word[cut:]


def _cut(text: str, room: int) -> str:
    if cell_len(text) <= room:
        return text
    out = text
    while out and cell_len(out) + 1 > room:
        out = out[:-1]
    return out.rstrip() + "…"


def _rstrip(line: Text, width: int) -> Text:
    line.rstrip()
    line.truncate(width)
    return line


# --- the summary ---------------------------------------------------------------------------


def percent(w: Words, value: float | None, digits: int = 1) -> str:
    """``87.5%``, ``87,5 %``: the locale's percent pattern with exactly ``digits`` decimals."""
    if value is None:
        return NA
    pattern = w.cat.locale.percent_formats[None].pattern
    fixed = pattern.replace("#,##0", "#,##0." + "0" * digits, 1) if digits else pattern
    return format_percent(value, format=fixed, locale=w.cat.locale)


def measured_text(o: Outcome, w: Words) -> str:
    """``87.5%/95%``: the measured share (one decimal) over the target (as short as it goes)."""
    v = o.verdict
    return f"{percent(w, v.measured)}/{w.cat.percent(v.target)}"


def count_atoms(o: Outcome, w: Words) -> list[str]:
    """``14 ok,`` ``2 breached,`` ``1 no evidence``: one atom per status present."""
    c = o.verdict.counts
    parts = [w.cat.count("summary_ok", c.get(Status.COMPLIANT, 0))]
    parts += [w.cat.count(f"count.{s.value}", c[s]) for s in COUNTED if c.get(s)]
    return [p + ("," if i < len(parts) - 1 else "") for i, p in enumerate(parts)]


def clause_lines(o: Outcome, w: Words, width: int, clause_width: int,
                 measured_width: int = 0) -> list[Text]:
    """The clause's line: status, clause id, measured / target, counts; then its title if it
    fits whole on the same line."""
    v = o.verdict
    atoms = [
        Atom(w.label[v.status], STYLE[v.status], pad=w.status_width + 1),
        Atom(o.commitment.clause, "bold", pad=clause_width + 1),
        Atom(measured_text(o, w), pad=measured_width + 1),
        *(Atom(c) for c in count_atoms(o, w)),
    ]
    lines = lay_out(atoms, width, indent=w.status_width + 2)
    title = o.commitment.title.strip()
    if len(lines) == 1 and cell_len(lines[0].plain) + 3 + cell_len(title) <= width:
        lines[0].append(" · " + title, style="dim")
    return lines


def offender_lines(o: Outcome, w: Words, width: int, tz: ZoneInfo | None = None,
                   shown: int = OFFENDERS_SHOWN) -> list[Text]:
    """The clause's worst subjects, one indented entry each, then '... and N more'."""
    out: list[Text] = []
    worst = o.worst(shown)
    lead = len(INDENT) + w.status_width + 1
    for r in worst:
        status = Status(r.status)
        text = wrap(w.cat.reason(r, tz), width, lead, lead, REASON_LINES)
        first = Text(INDENT)
        first.append(w.label[status].lower().ljust(w.status_width), style=STYLE[status])
        first.append(" " + text[0])
        out.append(_rstrip(first, width))
        out += [Text(line) for line in text[1:]]
    hidden = sum(1 for r in o.results if is_offender(r.status)) - len(worst)
    if hidden > 0:
        out.append(Text(INDENT + w.cat.count("summary_more", hidden), style="dim"))
    return out


def header_lines(ev: Evaluation, w: Words, width: int) -> list[Text]:
    k = ev.contract
    title = Text(_cut(k.title, width), style="bold")
    facts = [
        w.cat.t("summary_parties", provider=k.provider, customer=k.customer),
        w.cat.t("summary_as_of", moment=w.cat.moment(ev.as_of, k.timezone)),
        w.cat.count("summary_records", ev.evidence_count),
    ]
    if ev.errors:
        facts.append(w.cat.count("summary_errors", len(ev.errors)))
    atoms = [Atom(f + (" ·" if i < len(facts) - 1 else ""), "dim") for i, f in enumerate(facts)]
    return [title, *lay_out(atoms, width, indent=2)]


def note_lines(ev: Evaluation, w: Words, width: int) -> list[Text]:
    """Collection errors (summarised to one line each) and expired waivers."""
    out: list[Text] = []
    for e in ev.errors[:ERRORS_SHOWN]:
        text = w.cat.t("summary_error", source=e.source, origin=e.origin,
                       summary=error_summary(e))
        out += [Text(t, style="magenta") for t in wrap(text, width, 0, 2, REASON_LINES)]
    if len(ev.errors) > ERRORS_SHOWN:
        out.append(Text(w.cat.count("summary_more", len(ev.errors) - ERRORS_SHOWN),
                        style="magenta"))
    for x in (x for x in ev.waivers if x.status == "expired"):
        text = w.cat.t("summary_waiver_expired", expires=w.cat.day(x.waiver.expires),
                       commitment=x.waiver.commitment, subjects=", ".join(x.waiver.subjects))
        out += [Text(t, style="yellow") for t in wrap(text, width, 0, 2, REASON_LINES)]
    return out


def overall_lines(ev: Evaluation, w: Words, width: int) -> list[Text]:
    atoms = [Atom(w.cat.t("summary_overall")), Atom(w.label[ev.status], STYLE[ev.status])]
    if ev.partial:
        atoms += [Atom(x, "magenta") for x in w.cat.t("summary_partial").split(" ")]
    return lay_out(atoms, width, indent=2)


def summary_lines(ev: Evaluation, width: int, *, quiet: bool = False,
                  lang: str | None = None) -> list[Text]:
    """Every line of the summary, each at most ``width`` cells (``quiet``: the overall line),
    in ``lang`` (default: the contract's language)."""
    w = words_for(ev, lang)
    if quiet:
        return overall_lines(ev, w, width)
    clause_width = min(CLAUSE_WIDTH, max((cell_len(o.commitment.clause) for o in ev.outcomes),
                                         default=0))
    measured_width = max((cell_len(measured_text(o, w)) for o in ev.outcomes), default=0)
    out = header_lines(ev, w, width)
    out.append(Text())
    for o in ev.outcomes:
        out += clause_lines(o, w, width, clause_width, measured_width)
        out += offender_lines(o, w, width, ev.contract.timezone)
    notes = note_lines(ev, w, width)
    if notes:
        out += [Text(), *notes]
    out += [Text(), *overall_lines(ev, w, width)]
    return out


def render(ev: Evaluation, console: Console, *, quiet: bool = False,
           lang: str | None = None) -> None:
    """Print the summary at the console's width, in ``lang`` (default: the contract's)."""
    print_lines(console, summary_lines(ev, console.width, quiet=quiet, lang=lang))


def print_lines(console: Console, lines: Iterable[Text]) -> None:
    for line in lines:
        console.print(line, soft_wrap=True)
