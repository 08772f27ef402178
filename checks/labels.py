"""Subject labels a person can tell apart: two subjects never share a label within a commitment.

Checks label a subject by its short name (``root``, a hostname, a display name). When several
subjects of one commitment carry the same label (the root users of two AWS accounts, two VMs
called ``web-01`` in two tenants), each is qualified by what tells them apart: the account of
an ARN (``root (account 111111111111)``), else the subject's id. The reason, which starts with
the label, is qualified the same way.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from clausewatch.core.result import Result

#: arn:partition:service:region:account-id:resource (https://docs.aws.amazon.com/IAM/latest/
#: UserGuide/reference-arns.html)
_ARN = re.compile(r"^arn:[^:]+:[^:]+:[^:]*:(\d{12}):.+$")


def qualifier(subject: str) -> str:
    """What tells a subject apart from another of the same name: its AWS account, else its id."""
    m = _ARN.match(subject)
    return f"account {m.group(1)}" if m else subject


def unique_labels(results: Sequence[Result]) -> list[Result]:
    """``results`` with every label shared by different subjects qualified."""
    subjects: defaultdict[str, set[str]] = defaultdict(set)
    for r in results:
        subjects[r.label or r.subject].add(r.subject)
    shared = {label: subs for label, subs in subjects.items() if len(subs) > 1}
    if not shared:
        return list(results)
    names: dict[tuple[str, str], str] = {}
    for label, subs in shared.items():
        quals = {s: qualifier(s) for s in subs}
        if len(set(quals.values())) < len(subs):  # same account: fall back to the ids
            quals = {s: s for s in subs}
        for s, q in quals.items():
            names[(label, s)] = label if q == label else f"{label} ({q})"
    out = []
    for r in results:
        label = r.label or r.subject
        new = names.get((label, r.subject))
        if new is None or new == label:
            out.append(r)
            continue
        reason = new + r.reason[len(label):] if r.reason.startswith(label) else r.reason
        out.append(dataclasses.replace(r, label=new, reason=reason,
                                       reason_params=_relabel(r.reason_params, label, new)))
    return out


def _relabel(params: Mapping[str, Any], old: str, new: str) -> Mapping[str, Any]:
    """A reason's parameters with its ``label`` (and its nested messages' labels) qualified."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        if k == "label" and v == old:
            v = new
        elif isinstance(v, Mapping) and isinstance(v.get("params"), Mapping):
            v = {**v, "params": _relabel(v["params"], old, new)}
        out[k] = v
    return out
