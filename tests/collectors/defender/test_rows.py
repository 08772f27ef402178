"""The export's rows and times, read fast: the same values as the plain reading."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clausewatch.collectors.defender.timestamps import parse_time
from clausewatch.collectors.defender.vulnerabilities import row


def test_rows_of_different_column_sets_each_fold_their_own_names():
    camel = {"cveId": "CVE-1", "deviceId": "d1", "SoftwareName": "x"}
    pascal = {"CveId": "CVE-2", "DeviceId": "d2"}
    for _ in range(2):  # the second pass reads the folded names worked out by the first
        assert row(camel) == {"cveid": "CVE-1", "deviceid": "d1", "softwarename": "x"}
        assert row(pascal) == {"cveid": "CVE-2", "deviceid": "d2"}
    assert row({"CVEID": None}) == {"cveid": None}  # values are kept as they are, None too
    assert row({}) == {}


@pytest.mark.parametrize(("text", "instant"), [
    ("2020-11-03 10:13:34.8476880", datetime(2020, 11, 3, 10, 13, 34, 847688, tzinfo=UTC)),
    ("2018-08-02T14:55:03.7791856Z", datetime(2018, 8, 2, 14, 55, 3, 779185, tzinfo=UTC)),
    ("2020-12-30 14:17:26", datetime(2020, 12, 30, 14, 17, 26, tzinfo=UTC)),
    ("2020-12-30T16:17:26+02:00", datetime(2020, 12, 30, 14, 17, 26, tzinfo=UTC)),
])
def test_seven_fractional_digits_are_cut_to_microseconds_and_times_are_utc(text, instant):
    assert parse_time(text, "t") == instant


@pytest.mark.parametrize("bad", ["yesterday", "2020-13-01 00:00:00", 1604398414])
def test_a_value_that_is_not_a_time_raises(bad):
    with pytest.raises(ValueError, match="t "):
        parse_time(bad, "t")
