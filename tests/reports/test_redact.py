"""Secrets are masked by key name and by known value; metadata that only looks secret is kept."""

from __future__ import annotations

import json

from clausewatch.core.redact import MASK, Redactor, is_secret_key, redact


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
