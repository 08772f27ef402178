"""The export's rows and times, read fast: the same values as the plain reading."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clausewatch.collectors.defender.timestamps import parse_time
from clausewatch.collectors.defender.vulnerabilities import Columns, PatchFacts, patch_facts


def test_rows_of_different_column_sets_each_fold_their_own_names():
    columns = Columns()
    camel = {"cveId": "CVE-1", "deviceId": "d1", "SoftwareName": "x"}
    pascal = {"CveId": "CVE-2", "DeviceId": "d2"}
    for _ in range(2):  # the second pass reads with the pickers worked out by the first
        a, b = columns.row(camel), columns.row(pascal)
        assert (a.cveid, a.deviceid, a.softwarename, a.softwarevendor) == ("CVE-1", "d1", "x",
                                                                           None)
        assert (b.cveid, b.deviceid, b.softwarename) == ("CVE-2", "d2", None)
    assert columns.row({"CVEID": None}).cveid is None  # values are kept as they are
    assert set(columns.row({})) == {None}
    assert columns.row({"cveId": "old", "CVEID": "new"}).cveid == "new"  # the later key


def test_facts_worked_out_once_are_the_facts_of_each_row_with_their_own_types():
    columns, facts = Columns(), PatchFacts()
    base = {"cveId": "CVE-2026-1", "softwareVendor": "openssl", "softwareName": "openssl",
            "softwareVersion": "3.0.2", "recommendedSecurityUpdateId": "5071001",
            "firstSeenTimestamp": "2026-11-01 10:00:00.1234560"}
    rows = [{**base, "cvssScore": 10, "securityUpdateAvailable": True},
            {**base, "cvssScore": 10.0, "securityUpdateAvailable": 1},
            {**base, "cvssScore": [9], "firstSeenTimestamp": "2026-11-02 10:00:00"},
            {**base, "cvssScore": 10},
            {**base, "cveId": 1}, {**base, "cveId": True}]  # equal keys, other texts
    got = [facts(columns.row(r)) for r in rows]
    for r, f in zip(rows, got, strict=True):
        plain = patch_facts(columns.row(r))
        assert f == plain and list(f) == list(plain)
        assert type(f["cvss_score"]) is type(plain["cvss_score"])
    assert (got[0]["fix_available"], got[1]["fix_available"]) == (True, False)
    assert got[0]["cves"] is not got[3]["cves"]  # each record its own list
    assert (got[4]["cve_id"], got[5]["cve_id"]) == ("1", "True")
    with pytest.raises(ValueError, match="CVE-2026-1 firstSeenTimestamp"):
        facts(columns.row({**base, "firstSeenTimestamp": "yesterday"}))


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
