"""Veeam's login through real httpx: lifetime from expires_in, refresh, password fallback."""

from __future__ import annotations

import pytest
from veeam_fake import PASSWORD, USER, collect

from clausewatch.collectors.rest.client import ClientSettings, make_client
from clausewatch.collectors.rest.errors import TokenError
from clausewatch.collectors.rest.retry import RetryPolicy
from clausewatch.collectors.rest.session import RestSession
from clausewatch.collectors.veeam.auth import VeeamAuth
from clausewatch.core.configuration import ConfigurationError
from clausewatch.core.redact import Redactor


def session(fake, clock, redactor=None, password=PASSWORD):
    auth = VeeamAuth(f"{fake.base}/api/oauth2/token", USER, password, "1.2-rev1", clock=clock)
    settings = ClientSettings(base_url=f"{fake.base}/api/", headers={"x-api-version": "1.2-rev1"})
    client = make_client(settings, redactor or Redactor(), auth=auth)
    return auth, RestSession(client, RetryPolicy(sleep=clock.sleep, clock=clock))


def test_the_token_lifetime_comes_from_expires_in(veeam, clock):
    fake = veeam(expires_in=900)
    fake.list("jobs", [])
    auth, s = session(fake, clock)
    with s:
        s.get_json("v1/jobs")
        clock.t += 900 - 61  # outside the 60 s margin: the token is still used
        s.get_json("v1/jobs")
        clock.t += 2  # within it: refreshed before the call, no 401 needed
        s.get_json("v1/jobs")
    assert fake.grants() == ["password", "refresh_token"]
    assert [r.headers["authorization"] for r in fake.seen("/api/v1/jobs")] == [
        "Bearer eyJ.access-1.sig", "Bearer eyJ.access-1.sig", "Bearer eyJ.access-2.sig"]
    form = fake.seen("/api/oauth2/token")[0].form
    assert form == {"grant_type": ["password"], "username": [USER], "password": [PASSWORD]}


def test_a_refused_refresh_falls_back_to_one_password_login(veeam, clock):
    fake = veeam()
    fake.list("jobs", [{"id": "j1"}])
    auth, s = session(fake, clock)
    with s:
        s.get_json("v1/jobs")
        fake.refresh.clear()  # the refresh token expired (14 days) or was revoked
        fake.access.clear()  # and so did the access token
        assert s.get_json("v1/jobs")["data"] == [{"id": "j1"}]
    assert fake.grants() == ["password", "refresh_token", "password"]
    assert auth.fetches == 2  # the refused refresh stored nothing


def test_a_refused_password_is_a_token_error_without_the_password(veeam, clock):
    fake = veeam()
    redactor = Redactor()
    _, s = session(fake, clock, redactor, password="not-the-password-123")
    with s, pytest.raises(TokenError) as info:
        s.get_json("v1/jobs")
    assert info.value.status == 401
    assert "not-the-password-123" in redactor.known


def test_a_refused_login_is_a_configuration_problem_not_missing_evidence(estate, clock,
                                                                          tmp_path):
    fake = estate()
    with pytest.raises(ConfigurationError) as info:
        collect(fake.base, tmp_path, clock, password="wrong-password-456")
    [problem] = info.value.problems
    assert str(problem) == (
        "veeam source 'vbr01': the server refused the login of CORP\\svc-clausewatch (HTTP "
        "401); check username and the password in VBR01_PASSWORD (a Veeam Backup Viewer "
        "account, docs/veeam.md)")
    assert "wrong-password-456" not in str(problem)
    assert fake.grants() == ["password"]  # never looped
