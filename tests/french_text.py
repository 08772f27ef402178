"""What the French tests look for: the product's English vocabulary (reports, alerts, the
terminal summary) as whole words, French typography, and the data to leave out before looking.

Data is what the estate and the contract say (labels, subjects, facts written by a collector,
vendor error messages, contract titles): it is quoted as it came, so it is scrubbed first."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

#: Words of the product's English (reasons, headings, labels, alerts), as whole words.
ENGLISH = (
    "the and of not none with without since due day days night nights breach breached breaches "
    "compliant compliance evidence subject subjects update updates security deadline late worst "
    "backup backed restore successful successfully enforced registered waived waiver expires "
    "approved reason status target measured commitment provider customer penalty exposure cap "
    "so far open cured newly still reminder risk missing gone more could collect freshness "
    "limit old ago inventory data account privileged method identity period outstanding "
    "severity critical important moderate low falls past record every only cannot change "
    "undecided overall generated contract as at in force from to by for on is are was be "
    "succeeded attempts attempt warnings accepted never scope longer sees run runs report "
    "summary chart charts share measured target"
).split()
WORD = re.compile(r"(?<![\w./@:-])(" + "|".join(sorted(set(ENGLISH), key=len, reverse=True))
                  + r")(?![\w./@:-])", re.IGNORECASE)
SPACES = "\u00a0\u202f"
#: A count of 0 or 1 followed by a plural noun: French takes the singular there.
SINGULAR_PLURAL = re.compile(
    r"(?<![\d,.\u00a0\u202f])[01] (nuits|correctifs|éléments|jours|exécutions|preuves|erreurs"
    r"|conformes|autres)\b")


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings(v)]
    return []


def demo_data(out: Path) -> list[str]:
    """Every string the estate, the contract and the run's inputs brought (quoted as is), from
    a run's output folder, longest first."""
    found: set[str] = set()
    for line in (out / "evidence.jsonl").read_text(encoding="utf-8").splitlines():
        found.update(strings(json.loads(line)))
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    found.update(strings(results["contract"]))
    found.update(strings(results["waivers"]))
    found.update(strings(results["collection_errors"]))
    for c in results["commitments"]:
        found.update([c["id"], c["title"], c["clause"], c["check"]])
        for r in c["results"]:
            found.update([r["subject"], r["label"]])
            found.update(s for s in strings(r["reason_params"]) if s.startswith(" ("))
    return sorted((s for s in found if len(s) > 2), key=len, reverse=True)


def scrub(text: str, data: list[str]) -> str:
    for s in data:
        text = text.replace(s, " ")
    return text


def english(text: str, data: list[str]) -> list[str]:
    """The product's English words left in ``text`` once data is scrubbed, in context."""
    clean = scrub(text, data)
    return [clean[max(0, m.start() - 50):m.end() + 30].replace("\n", " ")
            for m in WORD.finditer(clean)]


def typography(text: str, data: list[str]) -> list[str]:
    """Places where ; : ! ? lack the no-break space before them, or « » inside them."""
    clean = re.sub(r"```.*?```|`[^`\n]*`", " ", scrub(text, data), flags=re.S)  # code
    bad = []
    for m in re.finditer(r"(.)([;:!?])", clean):
        if m.group(1) in SPACES:
            continue
        after = clean[m.end():m.end() + 1]
        if m.group(2) == ":" and (after in ("/", "") or after.isalnum()):
            continue  # a URL, a time, an ARN, ``accept_warning:``: not punctuation
        if m.group(2) == ";" and after == "":
            continue
        if m.group(2) == ":" and (m.group(1) == "-" or after == "-"):
            continue  # a Markdown table's alignment row
        bad.append(clean[max(0, m.start() - 30):m.end() + 10])
    bad += [clean[max(0, m.start() - 20):m.end() + 20]
            for m in re.finditer(r"«(?![\u00a0\u202f])|(?<![\u00a0\u202f])»", clean)]
    return bad


def unwrap(text: str, data: list[str], shortest: int = 20) -> str:
    """A terminal's ``text`` as one line (ASCII white space runs made one space: wrapped lines
    joined back), with data quoted in it removed, whole or cut short with '…' by the layout:
    a run of at least ``shortest`` characters that is, character for character, the start of a
    data string is left out. No-break spaces are kept."""
    flat = re.sub(r"[ \t\n\r\f\v]+", " ", text)
    for s in data:
        s = re.sub(r"[ \t\n\r\f\v]+", " ", s)
        if len(s) < shortest:
            continue
        at = flat.find(s[:shortest])
        while at >= 0:
            n = shortest
            while n < len(s) and at + n < len(flat) and flat[at + n] == s[n]:
                n += 1
            flat = flat[:at] + " " + flat[at + n:]
            at = flat.find(s[:shortest], at + 1)
    return flat
