"""Read AWS API pages once, the same way everywhere: boto3 paginators, each page kept raw."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from clausewatch.collectors.aws.errors import AWS_FAILURES, MalformedResponse, note_operation
from clausewatch.collectors.raw import RawRecorder


def pages(client: Any, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every page of ``operation``: boto3's paginator where the model has one, else one call."""
    if client.can_paginate(operation):
        yield from client.get_paginator(operation).paginate(**params)
    else:
        yield getattr(client, operation)(**params)


def api_name(client: Any, operation: str) -> str:
    """``describe_instances`` -> ``DescribeInstances`` (the IAM action and the docs' name)."""
    return str(client.meta.method_to_api_mapping.get(operation, operation))


def page_body(page: Mapping[str, Any]) -> dict[str, Any]:
    """The page without transport noise (HTTP headers), keeping the request id for audit."""
    body = {k: v for k, v in page.items() if k != "ResponseMetadata"}
    request_id = page.get("ResponseMetadata", {}).get("RequestId")
    if request_id:
        body["ResponseMetadata"] = {"RequestId": request_id}
    return body


@dataclass(frozen=True, slots=True)
class PageReader:
    """A client bound to where its pages are recorded (source and origin of the evidence)."""

    client: Any
    raw: RawRecorder
    source: str
    origin: str

    def pages(self, operation: str, **params: Any) -> Iterator[tuple[dict[str, Any], str]]:
        """Each page with the ``raw_ref`` of its recorded copy; a failure names ``operation``."""
        name = api_name(self.client, operation)
        try:
            for page in pages(self.client, operation, **params):
                body = page_body(page)
                yield body, self.raw.save(self.source, self.origin, name, body)
        except AWS_FAILURES as exc:
            note_operation(exc, name)
            raise

    def call(self, operation: str, **params: Any) -> tuple[dict[str, Any], str]:
        """One non-paginated call, recorded."""
        name = api_name(self.client, operation)
        try:
            body = page_body(getattr(self.client, operation)(**params))
        except AWS_FAILURES as exc:
            note_operation(exc, name)
            raise
        return body, self.raw.save(self.source, self.origin, name, body)


def members(page: Mapping[str, Any], key: str, operation: str) -> list[Any]:
    """``page[key]``, a list the API always returns (empty when there is nothing): its
    absence is a malformed answer (``MalformedResponse``), never an empty list."""
    value = page.get(key)
    if not isinstance(value, list):
        raise MalformedResponse(operation, key)
    return value
