"""Fixtures for the report tests: the small fixed run and golden-file comparison."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from report_case import GOLDEN, Case, build_case


@pytest.fixture(scope="session")
def case() -> Case:
    return build_case()


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """Compare ``text`` with the golden file ``name`` (``UPDATE_GOLDEN=1`` rewrites it)."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if os.environ.get("UPDATE_GOLDEN"):
            path.write_bytes(text.encode("utf-8"))
        assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
        expected = path.read_bytes().decode("utf-8")
        assert text == expected, f"{name} differs from its golden file"

    return check
