"""The pagers against a local server through real httpx: whole lists, or an error, never a
partial list that looks complete."""

from __future__ import annotations

from typing import Any

import pytest

from clausewatch.collectors.rest.errors import (
    BadJson,
    ForeignLink,
    MalformedPage,
    PartialPage,
    RepeatedCursor,
    ShortPaging,
    TooManyPages,
)
from clausewatch.collectors.rest.paging import (
    Page,
    odata_pages,
    offset_total_pages,
    skip_limit_pages,
    token_pages,
)


def machines(*ids: str) -> list[dict[str, Any]]:
    return [{"id": i, "computerDnsName": f"{i}.corp.example"} for i in ids]


# -- OData @odata.nextLink (Defender for Endpoint) ---------------------------------------------

def test_odata_follows_three_absolute_next_links(server, make_session):
    server.script("GET /api/machines", {"body": {
        "@odata.context": "{base}/api/$metadata#Machines", "value": machines("m1", "m2"),
        "@odata.nextLink": "{base}/api/machines?$skiptoken=p2"}})
    server.script("GET /api/machines?$skiptoken=p2", {"body": {
        "value": machines("m3", "m4"), "@odata.nextLink": "{base}/api/machines?$skiptoken=p3"}})
    server.script("GET /api/machines?$skiptoken=p3", {"body": {"value": machines("m5")}})
    pages = list(odata_pages(make_session(), "machines", {"$top": 2}))
    assert [p.number for p in pages] == [1, 2, 3]
    assert [m["id"] for p in pages for m in p.items] == ["m1", "m2", "m3", "m4", "m5"]
    assert pages[0].raw["@odata.context"].endswith("#Machines")  # the raw page, kept whole
    assert pages[1].url == f"{server.base}/api/machines?$skiptoken=p2"
    assert [r.query for r in server.requests] == [{"$top": "2"}, {"$skiptoken": "p2"},
                                                  {"$skiptoken": "p3"}]


def test_odata_refuses_a_next_link_to_another_host(server, make_session):
    other = f"http://127.0.0.2:{server.port}/api/machines?$skiptoken=p2"
    server.script("GET /api/machines", {"body": {"value": machines("m1"),
                                                 "@odata.nextLink": other}})
    with pytest.raises(ForeignLink, match="127.0.0.2"):
        list(odata_pages(make_session(), "machines"))
    assert len(server.requests) == 1  # the foreign link was never requested


def test_odata_refuses_a_repeated_next_link(server, make_session):
    server.script("GET /api/machines", {"body": {
        "value": machines("m1"), "@odata.nextLink": "{base}/api/machines?$skiptoken=p2"}})
    server.script("GET /api/machines?$skiptoken=p2", {"body": {
        "value": machines("m2"), "@odata.nextLink": "{base}/api/machines?$skiptoken=p2"}})
    with pytest.raises(RepeatedCursor):
        list(odata_pages(make_session(), "machines"))


def test_odata_pages_short_of_the_announced_count_raise(server, make_session):
    server.script("GET /api/machines", {"body": {
        "@odata.count": 5, "value": machines("m1", "m2"),
        "@odata.nextLink": "{base}/api/machines?$skiptoken=p2"}})
    server.script("GET /api/machines?$skiptoken=p2", {"body": {"value": machines("m3")}})
    with pytest.raises(ShortPaging) as info:
        list(odata_pages(make_session(), "machines"))
    assert (info.value.announced, info.value.received) == (5, 3)


# -- skip/limit with pagination totals (Veeam) --------------------------------------------------

def veeam(skip: int, *names: str, total: int = 5, limit: int = 2) -> dict[str, Any]:
    return {"data": [{"id": n, "name": n} for n in names],
            "pagination": {"total": total, "count": len(names), "skip": skip, "limit": limit}}


def test_skip_limit_reads_three_pages_up_to_the_total(server, make_session):
    server.script("GET /api/v1/jobs/states?skip=0&limit=2", {"body": veeam(0, "a", "b")})
    server.script("GET /api/v1/jobs/states?skip=2&limit=2", {"body": veeam(2, "c", "d")})
    server.script("GET /api/v1/jobs/states?skip=4&limit=2", {"body": veeam(4, "e")})
    pages = list(skip_limit_pages(make_session(), "v1/jobs/states", limit=2))
    assert [j["id"] for p in pages for j in p.items] == list("abcde")
    assert [r.query["skip"] for r in server.requests] == ["0", "2", "4"]
    assert pages[2].raw["pagination"]["total"] == 5


def test_skip_limit_empty_page_before_the_total_raises(server, make_session):
    server.script("GET /api/v1/jobs/states?skip=0&limit=2", {"body": veeam(0, "a", "b", total=6)})
    server.script("GET /api/v1/jobs/states?skip=2&limit=2", {"body": veeam(2, "c", "d", total=6)})
    server.script("GET /api/v1/jobs/states?skip=4&limit=2", {"body": veeam(4, total=6)})
    seen: list[Page] = []
    with pytest.raises(ShortPaging) as info:
        seen.extend(skip_limit_pages(make_session(), "v1/jobs/states", limit=2))
    assert (info.value.announced, info.value.received) == (6, 4)
    assert len(seen) == 3  # pages were yielded, but the list ended with an error


def test_skip_limit_total_changing_midway_raises(server, make_session):
    server.script("GET /api/v1/jobs/states?skip=0&limit=2", {"body": veeam(0, "a", "b")})
    server.script("GET /api/v1/jobs/states?skip=2&limit=2",
                  {"body": veeam(2, "c", "d", total=7)})
    with pytest.raises(ShortPaging, match="changed from 5 to 7"):
        list(skip_limit_pages(make_session(), "v1/jobs/states", limit=2))


def test_skip_limit_page_that_ignores_skip_raises(server, make_session):
    body = veeam(0, "a", "b")
    body["pagination"].pop("skip")  # no echo to compare: the repeat itself is caught
    server.script("GET /api/v1/jobs/states", {"body": body})
    with pytest.raises(RepeatedCursor, match="repeats the previous"):
        list(skip_limit_pages(make_session(), "v1/jobs/states", limit=2))


# -- offset/total (Wazuh) ----------------------------------------------------------------------

def wazuh(*ids: str, total: int = 7) -> dict[str, Any]:
    return {"data": {"affected_items": [{"id": i} for i in ids], "total_affected_items": total,
                     "total_failed_items": 0, "failed_items": []},
            "message": "All selected agents information was returned", "error": 0}


def test_offset_total_reads_three_pages(server, make_session):
    route = "GET /api/agents?sort=%2Bid&limit=3&offset="
    server.script(route + "0", {"body": wazuh("000", "001", "002")})
    server.script(route + "3", {"body": wazuh("003", "004", "005")})
    server.script(route + "6", {"body": wazuh("006")})
    pages = list(offset_total_pages(make_session(), "agents", {"sort": "+id"}, limit=3))
    assert [a["id"] for p in pages for a in p.items] == [f"00{i}" for i in range(7)]
    assert [r.query for r in server.requests][1] == {"sort": "+id", "offset": "3", "limit": "3"}


def test_offset_total_short_of_the_total_raises(server, make_session):
    server.script("GET /api/agents?offset=0&limit=3", {"body": wazuh("000", "001", "002", total=9)})
    server.script("GET /api/agents?offset=3&limit=3", {"body": wazuh("003", "004", "005", total=9)})
    server.script("GET /api/agents?offset=6&limit=3", {"body": wazuh(total=9)})
    with pytest.raises(ShortPaging, match="before the 9 items announced"):
        list(offset_total_pages(make_session(), "agents", limit=3))


def test_offset_total_page_check_stops_a_partial_page(server, make_session):
    partial = wazuh("001", total=1)
    partial["error"] = 2  # Wazuh: some of the items asked for failed

    def complete(page: Page) -> None:
        if page.raw.get("error") != 0:
            raise PartialPage(page.url, f"Wazuh marks the page partial (error {page.raw['error']})")

    server.script("GET /api/agents", {"body": partial})
    with pytest.raises(PartialPage, match="error 2"):
        list(offset_total_pages(make_session(), "agents", page_check=complete))


# -- page tokens (Google) ----------------------------------------------------------------------

def test_page_tokens_read_three_pages_and_stop_on_an_empty_token(server, make_session):
    server.script("GET /api/users", {"body": {"kind": "admin#directory#users",
                                              "users": [{"id": "u1"}], "nextPageToken": "t2"}})
    server.script("GET /api/users?pageToken=t2&customer=my_customer",
                  {"body": {"users": [{"id": "u2"}], "nextPageToken": "t3"}})
    server.script("GET /api/users?pageToken=t3&customer=my_customer",
                  {"body": {"users": [{"id": "u3"}], "nextPageToken": ""}})
    pages = list(token_pages(make_session(), "users", {"customer": "my_customer"},
                             items="users"))
    assert [u["id"] for p in pages for u in p.items] == ["u1", "u2", "u3"]
    assert [r.query.get("pageToken") for r in server.requests] == [None, "t2", "t3"]


def test_page_tokens_repeated_raise(server, make_session):
    server.script("GET /api/users", {"body": {"users": [{"id": "u1"}], "nextPageToken": "t2"}},
                  {"body": {"users": [{"id": "u2"}], "nextPageToken": "t2"}})
    with pytest.raises(RepeatedCursor):
        list(token_pages(make_session(), "users", items="users"))


def test_page_tokens_missing_items_are_empty_only_when_asked(server, make_session):
    server.script("GET /api/projects", {"body": {"kind": "empty list"}})
    with pytest.raises(MalformedPage, match="no 'projects' key"):
        list(token_pages(make_session(), "projects", items="projects"))
    pages = list(token_pages(make_session(), "projects", items="projects",
                             absent_is_empty=True))
    assert [p.items for p in pages] == [[]]


def test_page_tokens_item_extractor_for_aggregated_lists(server, make_session):
    server.script("GET /api/aggregated/instances", {"body": {"items": {
        "zones/a": {"instances": [{"name": "web-1"}]}, "zones/b": {"warning": {}}}}})

    def instances(body: dict[str, Any]) -> list[Any]:
        return [i for zone in body["items"].values() for i in zone.get("instances", [])]

    pages = list(token_pages(make_session(), "aggregated/instances", items=instances))
    assert pages[0].items == [{"name": "web-1"}]


# -- malformed pages: a typed error, never an empty list ---------------------------------------

MALFORMED = [
    ("odata", {"values": []}, "no 'value' key"),
    ("odata", {"value": {"id": 1}}, "value is a JSON dict, not a list"),
    ("skip", {"data": [{"id": 1}]}, "no 'pagination' object"),
    ("skip", {"data": None, "pagination": {"total": 1}}, "data is a JSON NoneType"),
    ("skip", {"data": [], "pagination": {"total": "3"}}, "total is '3', not a count"),
    # beyond 64 bits orjson reads a float: refused as a count, never taken as a huge total
    ("skip", {"data": [], "pagination": {"total": 2**64}}, "total is 1.8446744073709552e+19"),
    ("skip", {"data": [{"id": 1}], "pagination": {"total": 3, "count": 2}}, "count is 2"),
    ("offset", {"data": {"items": []}}, "no data.'affected_items' key"),
    ("offset", {"data": {"affected_items": []}}, "data.total_affected_items is None"),
    ("offset", {"error": 1}, "no 'data' object"),
    ("token", {"items": "x"}, "items is a JSON str"),
    ("token", {"items": [], "nextPageToken": 7}, "nextPageToken is 7"),
    ("token", [1, 2], "page is a JSON list, not an object"),
]


def pager(scheme: str, session: Any) -> Any:
    return {"odata": lambda: odata_pages(session, "things"),
            "skip": lambda: skip_limit_pages(session, "things"),
            "offset": lambda: offset_total_pages(session, "things"),
            "token": lambda: token_pages(session, "things", items="items")}[scheme]()


@pytest.mark.parametrize(("scheme", "body", "reason"), MALFORMED)
def test_a_malformed_first_page_raises_a_typed_error(server, make_session, scheme, body, reason):
    server.script("GET /api/things", {"body": body})
    yielded: list[Page] = []
    with pytest.raises(MalformedPage) as info:
        yielded.extend(pager(scheme, make_session()))
    assert reason in info.value.detail
    assert yielded == []  # no empty list stood for the page
    assert info.value.body == body  # the bad page is kept for the error's details


@pytest.mark.parametrize("scheme", ["odata", "skip", "offset", "token"])
def test_unparsable_json_raises_bad_json(server, make_session, scheme):
    server.script("GET /api/things", {"body": "<html>Proxy login</html>",
                                      "headers": {"Content-Type": "text/html"}})
    with pytest.raises(BadJson, match="not JSON \\(text/html"):
        list(pager(scheme, make_session()))


def test_a_malformed_later_page_raises_after_the_good_ones(server, make_session):
    server.script("GET /api/things", {"body": {"value": [1],
                                               "@odata.nextLink": "{base}/api/things?p=2"}})
    server.script("GET /api/things?p=2", {"body": {"error": "gone"}})
    got: list[Any] = []
    with pytest.raises(MalformedPage):
        for page in odata_pages(make_session(), "things"):
            got += page.items
    assert got == [1]


def test_a_runaway_loop_is_bounded(server, make_session):
    server.script("GET /api/things", *[{"body": {"items": [i], "nextPageToken": f"t{i}"}}
                                       for i in range(5)])
    with pytest.raises(TooManyPages):
        list(token_pages(make_session(), "things", items="items", max_pages=3))


@pytest.mark.parametrize("body", ['{"value": [{"cvssScore": NaN}]}',
                                  '{"value": [{"cvssScore": Infinity}]}'])
def test_json_beyond_rfc_8259_is_bad_json_not_a_fact(server, make_session, body):
    """orjson reads pages: NaN/Infinity (a Python json extension) are refused, never handed
    on as a non-finite number."""
    server.script("GET /api/things", {"body": body,
                                      "headers": {"Content-Type": "application/json"}})
    with pytest.raises(BadJson, match="not JSON \\(application/json"):
        list(pager("odata", make_session()))
