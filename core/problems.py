"""Problems found in an input file (contract, sources, evidence, pack), located to the line.

Every loader collects them and raises one ``InputError`` carrying all of them; the command line
prints one problem a line (``file:line:col: path: message``) and exits 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One thing wrong with an input file, where it is and what it is."""

    file: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}:{self.col}: {where}{self.message}"


class InputError(Exception):
    """Raised with every problem found in one or more input files."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
