"""Secrets are masked by key name and by known value; metadata that only looks secret is kept."""

from __future__ import annotations

import json
import re

from hypothesis import given
from hypothesis import strategies as st

from clausewatch.core.redact import MASK, Redactor, is_secret_key, redact

#: Credentials of the shapes AWS hands out (access key id, secret key, session token) and
#: their overlaps: texts are built from pieces of them, whole or cut, and from plain words.
CREDENTIALS = ["ASIAEXAMPLE7QX2ZL4MB", "ASIAEXAMPLE7QX2ZL4MC", "wJalrXUtnFEMI/K7MDENG+bPxRfiCY",
               "IQoJb3JpZ2luX2VjEPr//////////wEaCWV1LXdlc3QtMyJHMEUCIQ", "hunter2&<long>"]
_PIECES = st.one_of(st.sampled_from(CREDENTIALS).flatmap(
    lambda c: st.integers(1, len(c)).map(lambda n: c[:n] if n % 2 else c[-n:])),
    st.text(alphabet="ASIQoJ/+&<>%2Fabc 0123", max_size=6))


def test_secret_keys_are_masked_whatever_their_spelling():
    page = {
        "client_secret": "s1", "password": "p", "Authorization": "Bearer t", "token": "t",
        "SecretAccessKey": "k", "SessionToken": "st", "private_key": "pk", "access_key": "ak",
        "nested": [{"x-api-key": "abc", "db_password": "pw"}],
    }  # fmt: skip
    out = redact(page)
    assert all(v == MASK for k, v in out.items() if k != "nested")
    assert out["nested"] == [{"x-api-key": MASK, "db_password": MASK}]


def test_metadata_that_looks_secret_is_kept():
    page = {"AccessKeyId": "AKIAEXAMPLE", "passwordLastUsed": "2026-11-01T00:00:00Z",
            "password_enabled": True, "tokenIssuerType": "AzureAD", "NextToken": "page-2"}
    assert redact(page) == page
    assert not is_secret_key("AccessKeyId") and is_secret_key("client-secret")


@given(st.lists(_PIECES, max_size=8).map("".join))
def test_text_masks_exactly_what_the_alternation_of_every_form_masks(text: str) -> None:
    """The first-characters search that spares most strings the full alternation changes
    nothing: the same text out as the plain alternation of every form, longest first."""
    r = Redactor(CREDENTIALS)
    plain = re.compile("|".join(re.escape(v) for v in r.values))
    assert r.text(text) == plain.sub(MASK, text)


def test_known_secret_values_are_masked_inside_any_string():
    r = Redactor(["hunter2-long-secret", "x"])  # too short to be a secret worth masking
    assert r.text("login with hunter2-long-secret now") == f"login with {MASK} now"
    assert r.data({"note": ["hunter2-long-secret"]}) == {"note": [MASK]}
    assert r.leaks(b"...hunter2-long-secret...") and not r.leaks(b"x marks the spot")


def test_json_pages_without_secrets_keep_their_exact_bytes():
    r = Redactor(["s3cr3t-value"])
    clean = '{"b": 1,   "a": [1,2]}'
    assert r.json_text(clean) == clean  # digests taken of raw pages still hold
    dirty = json.dumps({"a": "uses s3cr3t-value", "password": "p"})
    assert json.loads(r.json_text(dirty)) == {"a": f"uses {MASK}", "password": MASK}


def test_a_json_escaped_secret_is_found_too():
    secret = 'quo"te\\secret'
    r = Redactor([secret])
    blob = json.dumps({"k": secret}).encode()
    assert r.leaks(blob)


# --- secrets in parts and in other encodings (issue 11.5) -----------------------------------

SLACK = "https://hooks.slack.com/services/T0CANARY1/B0CANARY22/aBcDeFgHiJkLmNoPqRsTuVwX"
TEAMS = ("https://prod-12.westeurope.logic.azure.com:443/workflows/c4ed9335bc864140a11f4508d19acea3"
         "/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun"
         "&sv=1.0&sig=Xq1Yz2_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789")
CONNECTOR = ("https://contoso.webhook.office.com/webhookb2/0b7a1f4e-1111-4c2e-9d3a-2b9c2f0e5a11@"
             "72f988bf-86f1-41af-91ab-2d7cd011db47/IncomingWebhook/4f2c0d7e9a8b4c1d8e2f3a4b5c6d7e8f"
             "/3c9a2b1d-2222-4e5f-8a9b-0c1d2e3f4a5b")


def test_a_receiver_echoing_only_the_path_of_a_webhook_url_is_masked():
    r = Redactor([SLACK])
    echoed = r.text('{"error":"no_service","path":"/services/T0CANARY1/B0CANARY22/'
                    'aBcDeFgHiJkLmNoPqRsTuVwX"} and alone: aBcDeFgHiJkLmNoPqRsTuVwX, B0CANARY22')
    assert "aBcDeFgHiJkLmNoPqRsTuVwX" not in echoed and "B0CANARY22" not in echoed
    assert "T0CANARY1" not in echoed and "no_service" in echoed
    assert r.text("see the services page") == "see the services page"  # words stay


def test_teams_and_connector_urls_lose_their_ids_and_signature_but_keep_their_words():
    r = Redactor([TEAMS, CONNECTOR])
    text = r.text("POST /workflows/c4ed9335bc864140a11f4508d19acea3/triggers/manual/run failed: "
                  "sig=Xq1Yz2_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 (api-version=2016-06-01); "
                  "connector 4f2c0d7e9a8b4c1d8e2f3a4b5c6d7e8f of "
                  "0b7a1f4e-1111-4c2e-9d3a-2b9c2f0e5a11")
    for part in ("c4ed9335bc864140a11f4508d19acea3", "Xq1Yz2_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
                 "4f2c0d7e9a8b4c1d8e2f3a4b5c6d7e8f", "0b7a1f4e-1111-4c2e-9d3a-2b9c2f0e5a11"):
        assert part not in text
    assert "api-version=2016-06-01" in text and "triggers/manual" in text


def test_query_secrets_user_info_and_header_credentials_are_masked_alone():
    r = Redactor(["https://relay:pa55-w0rd-x@hooks.example.com/in?code=abcd&token=zz-top-1&v=2",
                  "Bearer eyJ0eXAi.canary-bearer-42", "Basic dXNlcjpzM2NyM3QtcGFzcw=="])
    text = r.text("code abcd, token zz-top-1, pass pa55-w0rd-x, bearer eyJ0eXAi.canary-bearer-42,"
                  " basic s3cr3t-pass, v=2")
    for part in ("abcd", "zz-top-1", "pa55-w0rd-x", "eyJ0eXAi.canary-bearer-42", "s3cr3t-pass"):
        assert part not in text, part
    assert "v=2" in text


def test_encoded_forms_of_a_secret_are_masked():
    r = Redactor([SLACK])
    import re
    from urllib.parse import quote

    lower_hex = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(SLACK, safe=""))
    forms = [quote(SLACK, safe=""), lower_hex,
             json.dumps(SLACK).replace("/", "\\/"), SLACK.replace("/", "\\/"),
             quote("aBcDeFgHiJkLmNoPqRsTuVwX")]
    for form in forms:
        assert "aBcDeFgHiJkLmNoPqRsTuVwX" not in r.text(form), form
    assert r.text(quote(SLACK, safe="")) == MASK and r.text(lower_hex) == MASK
    html = Redactor(["https://x.example/in?token=ab12cd34&sig=Zz9Yy8Xx7Ww6"]).text(
        "<a href='https://x.example/in?token=ab12cd34&amp;sig=Zz9Yy8Xx7Ww6'>")
    assert "ab12cd34" not in html and "Zz9Yy8Xx7Ww6" not in html


def test_an_excerpt_is_masked_before_it_is_cut():
    secret = "R0UT1NGKEY-canary-0123456789abcdef"
    body = "x" * 190 + secret + "y" * 50
    r = Redactor([secret])
    cut = r.excerpt(body, 200)
    assert len(cut) <= 200 and secret[:8] not in cut and MASK[:5] in cut
    assert Redactor().excerpt(body, 200) == body[:199] + "…"  # (what used to leak its head)


def test_records_are_masked_by_value_only():
    from datetime import UTC, datetime

    from clausewatch.core.evidence import CollectionError, Evidence

    r = Redactor(["cs~canary-client-secret"])
    err = CollectionError(source="entra", origin="entra/t", kinds=("identity",),
                          message="HTTP 400: client_secret cs~canary-client-secret is invalid",
                          details={"body": "echo cs~canary-client-secret"})
    ev = Evidence(id="1", kind="identity", source="entra", subject="a@b",
                  observed_at=datetime(2026, 1, 1, tzinfo=UTC),
                  facts={"passwordPolicies": "DisablePasswordExpiration", "note": "x"})
    out_err, out_ev = r.records([err, ev])
    assert "cs~canary" not in out_err.message and "cs~canary" not in str(out_err.details)
    assert out_ev is ev  # nothing to mask: the same record, facts untouched by key names


def test_the_log_filter_masks_messages_and_tracebacks(caplog):
    import logging

    from clausewatch.core.redact import ScrubFilter

    log = logging.getLogger("clausewatch.test.scrub")
    scrub = ScrubFilter(Redactor(["canary-log-secret-99"]))
    log.addFilter(scrub)
    try:
        with caplog.at_level(logging.INFO, logger="clausewatch.test.scrub"):
            log.info("sent %s", "canary-log-secret-99")
            try:
                raise ValueError("bad canary-log-secret-99")
            except ValueError:
                log.exception("failed")
    finally:
        log.removeFilter(scrub)
    assert "canary-log-secret-99" not in caplog.text and MASK in caplog.text


_KEYS = st.one_of(st.sampled_from(["id", "password", "nextPageToken", "client_secret", ": x",
                                   'a"b', "pass\u00e9word", "x\\y", "Token", "items"]), _PIECES)
_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), _PIECES, st.sampled_from(['": ', '"'])),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(_KEYS, inner, max_size=4)), max_leaves=12)


@given(st.one_of(st.lists(_JSON, max_size=4), st.dictionaries(_KEYS, _JSON, max_size=4)))
def test_a_raw_page_proved_clean_on_its_text_is_what_masking_it_would_write(page) -> None:
    """The raw recorder's shortcut (``leaves_json`` on the page's text) writes exactly the bytes
    masking the page first would: never a page holding a secret key or a known value."""
    from clausewatch.collectors.raw import _plain_layout, layout

    r = Redactor(CREDENTIALS)
    fast = _plain_layout(page, r)
    assert fast is None or fast == layout(r.data(page))


def test_a_clean_page_takes_the_shortcut_and_a_dirty_one_does_not() -> None:
    from clausewatch.collectors.raw import _plain_layout

    r = Redactor(CREDENTIALS)
    clean = {"items": [{"id": "1", "name": "vm-1"}], "nextPageToken": "2"}
    assert _plain_layout(clean, r) is not None
    for dirty in ({"items": [{"client_secret": "x"}]}, {"note": f"a {CREDENTIALS[2]} b"},
                  {"items": ("tuple", "row")}, {"when": object()}):
        assert _plain_layout(dirty, r) is None


def test_a_circular_page_is_not_proved_clean_and_fails_as_masking_it_does() -> None:
    """The JSON-only encoder skips the circular-reference check (pages decoded from JSON have
    none): a circular page still takes the masking path, which raises as it always did."""
    import pytest

    from clausewatch.collectors.raw import RawRecorder, _plain_layout

    r = Redactor(CREDENTIALS)
    page: dict[str, object] = {"items": []}
    page["items"] = [page]
    assert _plain_layout(page, r) is None
    with pytest.raises(RecursionError):
        RawRecorder(None, r).save("s", "o", "op", page)


_ENCODINGS = [lambda v: json.dumps(v).encode(), lambda v: json.dumps(v, ensure_ascii=False,
              separators=(",", ":")).encode(), lambda v: json.dumps(v, indent=2).encode()]


@given(st.one_of(st.lists(_JSON, max_size=4), st.dictionaries(_KEYS, _JSON, max_size=4)),
       st.sampled_from(_ENCODINGS))
def test_a_page_proved_clean_on_its_bytes_is_one_masking_would_leave(page, encode) -> None:
    """``leaves_received`` (a page saved as the API sent it) proves only pages that masking
    would leave as they are, whatever the sender's spacing or escaping."""
    body = encode(page)
    parsed = json.loads(body)
    r = Redactor(CREDENTIALS)
    if r.leaves_received(body, parsed):
        assert r.data(parsed) == parsed
        assert not r.leaks(body)


def test_a_clean_page_is_saved_as_received_and_a_dirty_one_masked(tmp_path) -> None:
    from clausewatch.collectors.raw import RawRecorder

    r = Redactor(CREDENTIALS)
    raw = RawRecorder(tmp_path, r)
    clean = b'{"value":[{"id":"1","name":"vm-\xc3\xa9"}],"@odata.nextLink":"https://h/p?x=1"}'
    ref = raw.save("s", "o", "op", json.loads(clean), clean)
    rel, _, digest = ref.partition("#sha256=")
    assert (tmp_path / rel).read_bytes() == clean
    assert digest == __import__("hashlib").sha256(clean).hexdigest()
    escaped = ('{"v": "\\u0077' + CREDENTIALS[2][1:] + '"}').encode()  # "w" as \u0077
    for dirty in (b'{"items":[{"client_secret":"x"}]}', escaped,
                  json.dumps({"note": f"a {CREDENTIALS[0]} b"}).encode()):
        assert not r.leaves_received(dirty, json.loads(dirty))
        rel = raw.save("s", "o", "op", json.loads(dirty), dirty).partition("#")[0]
        written = (tmp_path / rel).read_bytes()
        assert written != dirty and MASK.encode() in written and not r.leaks(written)


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                     lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=3), inner, max_size=4), max_leaves=30)


@given(_JSON, st.sampled_from([1, 2, 3, 4096]))
def test_keys_read_a_chunk_at_a_time_are_every_key(value, chunk) -> None:
    """``_json_keys`` reads a level ``_CHUNK`` items at a time (the lock is let go between two):
    the same keys as a walk, however the levels are cut."""
    import unittest.mock

    from clausewatch.core import redact as module

    def walk(v: object) -> set[object]:
        if isinstance(v, dict):
            return set(v) | {k for x in v.values() for k in walk(x)}
        if isinstance(v, list):
            return {k for x in v for k in walk(x)}
        return set()

    with unittest.mock.patch.object(module, "_CHUNK", chunk):
        assert module._json_keys(value) == walk(value)
        assert module._json_keys([value, (1,)]) is None  # a tuple is not a JSON type


@given(st.binary(max_size=40), st.binary(min_size=1, max_size=5), st.integers(1, 9))
def test_a_head_is_found_across_the_windows_searched(body, head, window) -> None:
    import unittest.mock

    from clausewatch.core import redact as module

    with unittest.mock.patch.object(module, "_WINDOW", window):
        assert module._holds(body, head) == (head in body)
