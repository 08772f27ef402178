"""Effective privileged grants, with inheritance: a role bound on a node applies to every
project under it.

Each binding of each readable policy is graded (:mod:`.roles`); a binding under a condition
that has certainly expired is dropped (:mod:`.conditions`), any other condition is kept as held
with its text. ``deleted:`` members are out of scope (a deleted principal can no longer sign
in). The result is one :class:`Grant` per member x privileged (or unknown) role x node, with
the projects it reaches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from clausewatch.collectors.gcp.conditions import evaluate
from clausewatch.collectors.gcp.hierarchy import Hierarchy, Node
from clausewatch.collectors.gcp.members import Member, MemberKind, parse_member
from clausewatch.collectors.gcp.policies import Binding
from clausewatch.collectors.gcp.roles import Grade, RoleBook, RoleGrade


@dataclass(frozen=True, slots=True)
class Grant:
    """A privileged (or possibly privileged) role held by one member on one node."""

    member: Member
    role: str
    node: str
    node_label: str
    grade: RoleGrade
    condition: str | None
    condition_note: str | None
    projects: tuple[str, ...]  # project ids it applies to
    raw_ref: str

    def describe(self, via: str | None = None) -> str:
        where = self.node_label
        if not self.node.startswith("projects/") and self.projects:
            shown = ", ".join(self.projects[:5]) + (" ..." if len(self.projects) > 5 else "")
            where += f", inherited by {shown}"
        text = f"{self.role} on {where}"
        if self.grade.grade is Grade.UNKNOWN:
            text += " (role not readable)"
        if self.condition:
            text += f" [condition: {self.condition_note}: {self.condition}]"
        if via:
            text += f" via {via}"
        return text

    def as_fact(self) -> dict[str, object]:
        return {"role": self.role, "on": self.node, "projects": list(self.projects),
                "grade": self.grade.grade.value, "why": self.grade.why,
                "condition": self.condition, "condition_note": self.condition_note,
                "member": self.member.text}


@dataclass(frozen=True, slots=True)
class Dropped:
    """A binding left out, and why (an expired condition, an inert role)."""

    member: str
    role: str
    node: str
    why: str


def projects_under(tree: Hierarchy, node: Node) -> tuple[str, ...]:
    """The ids of the known projects at or under ``node``."""
    return tuple(p.project_id for p in tree.projects
                 if p.project_id and any(a.name == node.name for a in tree.ancestors(p)))


def grants(tree: Hierarchy, bindings: Iterable[Binding], book: RoleBook,
           as_of: datetime) -> tuple[list[Grant], list[Dropped]]:
    """The grants that make someone privileged, and the bindings dropped on the way."""
    out: list[Grant] = []
    dropped: list[Dropped] = []
    reach: dict[str, tuple[str, ...]] = {}
    for binding in bindings:
        grade = book.grade(binding.role)
        if grade.grade is Grade.NOT_PRIVILEGED:
            continue
        node = tree.nodes[binding.node]
        if grade.grade is Grade.INERT:
            dropped += [Dropped(m, binding.role, node.name, grade.why) for m in binding.members]
            continue
        note = None
        if binding.condition:
            verdict = evaluate(binding.condition, as_of)
            if not verdict.held:
                dropped += [Dropped(m, binding.role, node.name, f"condition {verdict.note}")
                            for m in binding.members]
                continue
            note = verdict.note
        if node.name not in reach:
            reach[node.name] = projects_under(tree, node)
        for text in binding.members:
            member = parse_member(text)
            if member.kind is MemberKind.DELETED:
                continue
            out.append(Grant(member, binding.role, node.name, node.label, grade,
                             binding.condition, note, reach[node.name], binding.raw_ref))
    return out, dropped
