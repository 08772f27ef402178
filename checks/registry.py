"""The check registry: a check is a pure function plus the schema of its params."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from clausewatch.checks.screening import CheckFn, screened

__all__ = ["CHECKS", "CheckFn", "CheckSpec", "Registry"]


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """A registered check: its name, function, the evidence kinds it reads, its params schema."""

    name: str
    fn: CheckFn
    evidence_kinds: frozenset[str]
    params_schema: Mapping[str, Any]
    summary: str


class Registry:
    """Name -> CheckSpec. Adding a check is one module and one import line in ``__init__``."""

    def __init__(self) -> None:
        self._specs: dict[str, CheckSpec] = {}

    def register(
        self, name: str, *, evidence: Iterable[str], params_schema: Mapping[str, Any], summary: str
    ) -> Callable[[CheckFn], CheckFn]:
        def deco(fn: CheckFn) -> CheckFn:
            """Register ``fn`` screened (``checks/screening.py``) and return it screened."""
            if name in self._specs:
                raise ValueError(f"check {name!r} registered twice")
            kinds = frozenset(evidence)
            check = screened(fn, kinds)
            self._specs[name] = CheckSpec(name, check, kinds, params_schema, summary)
            return check

        return deco

    def __getitem__(self, name: str) -> CheckSpec:
        return self._specs[name]

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._specs))

    def names(self) -> list[str]:
        return sorted(self._specs)

    def params_schema(self, name: str) -> Mapping[str, Any]:
        return self._specs[name].params_schema


CHECKS = Registry()
