"""A minimal REST source on the kit: the module docs/rest-kit.md and the README show.

``sources: {acme: [{name, url, username, password_env}]}`` reads the last result of every
backup job of an "Acme Backup" server (a Veeam-like API: OAuth 2.0 password grant, skip/limit
pages). To ship it: save as ``collectors/acme.py`` and add ``"acme":
"clausewatch.collectors.acme"`` to ``CATALOGUE`` in ``collectors/catalogue.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from clausewatch.collectors.base import Collector, FailedCollector
from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.rest.auth import OAuth2FormAuth
from clausewatch.collectors.rest.client import (
    CONNECTION_PROPERTIES,
    connection_problems,
    make_client,
    settings_from,
)
from clausewatch.collectors.rest.mapper import REST_FAILURES, Redact, collection_error
from clausewatch.collectors.rest.paging import skip_limit_pages
from clausewatch.collectors.rest.retry import RETRY_SCHEMA, RetryPolicy
from clausewatch.collectors.rest.session import RestSession
from clausewatch.core.clock import parse_utc
from clausewatch.core.evidence import CollectionError, Evidence, Kind, default_evidence_id

SOURCE = "acme"
OUTCOMES = {"Success": "success", "Warning": "partial", "Failed": "failed"}

ENTRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "url", "username", "password_env"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "username": {"type": "string", "minLength": 1},
        "password_env": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        **CONNECTION_PROPERTIES,
        "retry": RETRY_SCHEMA,
    },
}


def entry_problems(entry: Mapping[str, Any]) -> Iterator[tuple[list[Any], str]]:
    yield from connection_problems(entry)


def build(entry: Mapping[str, Any], context: BuildContext,
          retry: RetryPolicy | None = None) -> list[Collector]:
    origin = f"acme/{entry['name']}"
    password = context.env.get(entry["password_env"])
    if not password:
        return [FailedCollector(CollectionError(
            source=SOURCE, origin=origin, kinds=JobsCollector.kinds, operation="credential",
            message=f"environment variable {entry['password_env']} (password_env) is not set"))]
    settings = settings_from(entry, context.base_dir, section="acme")
    auth = OAuth2FormAuth.password(settings.base_url.rstrip("/") + "/oauth2/token",
                                   entry["username"], password)
    client = make_client(settings, context.secrets, auth=auth)  # registers the password
    session = RestSession(client, retry or RetryPolicy.from_entry(entry))
    return [JobsCollector(entry["name"], session, context.raw, context.as_of,
                          context.raw.redact)]


@dataclass(frozen=True, slots=True)
class JobsCollector:
    """The last result of every backup job of one Acme Backup server."""

    name: str
    session: RestSession
    raw: RawRecorder
    observed_at: datetime
    redact: Redact
    source: ClassVar[str] = SOURCE
    kinds: ClassVar[tuple[str, ...]] = (Kind.BACKUP.value,)

    @property
    def origin(self) -> str:
        return f"acme/{self.name}"

    def collect(self) -> Iterator[Evidence | CollectionError]:
        try:
            with self.session:
                for page in skip_limit_pages(self.session, "v1/jobs/states", limit=200):
                    ref = self.raw.save(self.source, self.origin, "jobs-states", page.raw)
                    yield from (self._evidence(job, ref) for job in page.items
                                if job.get("lastRun") and job.get("lastResult") in OUTCOMES)
        except REST_FAILURES as exc:  # the API, the network or a page failed: say so
            yield collection_error(exc, source=self.source, origin=self.origin,
                                   kinds=self.kinds, operation="jobs-states",
                                   redact=self.redact)

    def _evidence(self, job: Mapping[str, Any], ref: str) -> Evidence:
        facts = {"outcome": OUTCOMES[job["lastResult"]], "completed_at": parse_utc(job["lastRun"]),
                 "job_id": job["id"]}
        return Evidence(id=default_evidence_id(Kind.BACKUP, self.source, job["name"], facts),
                        kind=Kind.BACKUP, source=self.source, subject=job["name"],
                        observed_at=self.observed_at, facts=facts, origin=self.origin,
                        raw_ref=ref)
