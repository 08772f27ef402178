"""An item's page inside a $batch answer: its `value` array, or a failure naming its raw page."""

from __future__ import annotations

import pytest

from clausewatch.collectors.m365.batch import Answer
from clausewatch.collectors.m365.graph import GraphFailure


def test_a_page_gives_its_value_array() -> None:
    page = Answer(key="g1", body={"value": [{"id": "u1"}]}, raw_ref="raw/b-1.json", url="/x")
    assert page.values("group-members") == [{"id": "u1"}]


@pytest.mark.parametrize("body", [{}, {"value": None}, {"value": {"id": "u1"}}, "oops", None])
def test_a_page_without_a_value_array_is_a_failure_never_an_empty_list(body: object) -> None:
    page = Answer(key="g1", body=body, raw_ref="raw/b-7.json", url="/x")
    with pytest.raises(GraphFailure) as caught:
        page.values("group-members")
    assert "raw/b-7.json" in str(caught.value)
    assert caught.value.details == {"raw_ref": "raw/b-7.json"}
