"""Collection errors bear on exactly what they covered (docs/errors.md): table-driven cases.

Each case is an estate, one commitment and some errors, with the status expected of every
subject (placeholders for unseen subjects are counted apart). ``CASES`` is the count reported
in the issue's closing note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from builders import AS_OF, commitment, contract, days_ago, ev

from clausewatch.checks.engine import bears_on, evaluate
from clausewatch.core.evidence import CollectionError, canonical_origin, origin_covers
from clausewatch.core.result import Status

DEADLINES = {"deadlines_days": {"critical": 7}}
OK, NO = Status.COMPLIANT, Status.NO_EVIDENCE
R1, R3 = "aws/111111111111/eu-west-1", "aws/111111111111/eu-west-3"
R2 = "aws/222222222222/eu-west-1"


def server(name: str, origin: str = R1, source: str = "aws.ec2", kind: str = "server",
           **facts: Any) -> Any:
    tags = facts.pop("tags", {})
    return ev("asset", name, {"asset_kind": kind, "name": name, "tags": tags,
                              "patch_assessed_at": days_ago(0, 1), **facts},
              source=source, origin=origin)


def user(upn: str, origin: str, source: str = "entra", **facts: Any) -> Any:
    return ev("identity", upn, {"account": upn, "enabled": True, "account_type": "member",
                                "privileged": False, "mfa_registered": True,
                                "mfa_enforced": True, **facts}, source=source, origin=origin)


def err(source: str, origin: str, kinds: tuple[str, ...], **kw: Any) -> CollectionError:
    return CollectionError(source=source, origin=origin, kinds=kinds, message=kw.pop(
        "message", "boom"), **kw)


@dataclass
class Case:
    name: str
    check: str
    evidence: list[Any]
    errors: list[CollectionError]
    expect: dict[str, Status]
    placeholders: int = 0
    scope: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=lambda: dict(DEADLINES))


FIVE_SERVERS = [server(f"srv{i}") for i in range(5)]
RDS = dict(source="aws.rds", kinds=("asset",), asset_kinds=("database",),
           resource_types=("RDS",), operation="DescribeDBInstances")

CASES = [
    Case("failed RDS listing leaves a servers-only commitment untouched", "patch_lag",
         FIVE_SERVERS, [err(origin=R1, **RDS)],  # type: ignore[arg-type]
         {f"srv{i}": OK for i in range(5)}, scope={"asset_kinds": ("server",)}),
    Case("failed EFS and DynamoDB listings leave 5 servers 5 subjects", "patch_lag",
         FIVE_SERVERS,
         [err("aws.efs", R1, ("asset",), asset_kinds=("filesystem",)),
          err("aws.dynamodb", R1, ("asset",), asset_kinds=("database",))],
         {f"srv{i}": OK for i in range(5)}, scope={"asset_kinds": ("server",)}),
    Case("failed RDS listing on a commitment over every asset kind is a placeholder",
         "patch_lag", FIVE_SERVERS, [err(origin=R1, **RDS)],  # type: ignore[arg-type]
         {f"srv{i}": OK for i in range(5)}, placeholders=1),
    Case("failed RDS listing covers the databases RDS reported, not the servers", "patch_lag",
         [*FIVE_SERVERS[:2], server("db1", source="aws.rds", kind="database")],
         [err(origin=R1, **RDS)],  # type: ignore[arg-type]
         {"srv0": OK, "srv1": OK, "db1": NO}),
    Case("an SSM patch error at an origin covers servers there, not databases", "patch_lag",
         [server("srv0"), server("db1", source="aws.rds", kind="database")],
         [err("aws.ssm", R1, ("patch",), asset_kinds=("server",))],
         {"srv0": NO, "db1": OK}),
    Case("an error on one account and region leaves the others judged", "patch_lag",
         [server("a", R1), server("b", R3), server("c", R2)],
         [err("aws.ssm", R1, ("patch",), operation="DescribeInstancePatchStates")],
         {"a": NO, "b": OK, "c": OK}),
    Case("an error on a whole account covers its regions only", "patch_lag",
         [server("a", R1), server("b", R3), server("c", R2)],
         [err("aws.ssm", "aws/111111111111", ("patch",))],
         {"a": NO, "b": NO, "c": OK}),
    Case("an account id prefix is no cover", "patch_lag",
         [server("a", "aws/1111/eu-west-1"), server("b", "aws/11112/eu-west-1")],
         [err("aws.ssm", "aws/1111", ("patch",))], {"a": NO, "b": OK}),
    Case("origins differing in case cover", "patch_lag", [server("a", R1), server("b", R2)],
         [err("aws.ssm", R1.upper(), ("patch",))], {"a": NO, "b": OK}),
    Case("an origin with a trailing slash covers", "patch_lag",
         [server("a", R1), server("b", R2)], [err("aws.ssm", R1 + "/", ("patch",))],
         {"a": NO, "b": OK}),
    Case("an asset origin with a trailing slash and capitals is covered", "patch_lag",
         [server("a", "AWS/111111111111/EU-WEST-1/"), server("b", R2)],
         [err("aws.ssm", R1, ("patch",))], {"a": NO, "b": OK}),
    Case("throttled DescribeInstancePatches (origin .../<instance>) covers its own asset",
         "patch_lag",
         [server("arn:aws:ec2:eu-west-1:111111111111:instance/i-0aaa"),
          server("arn:aws:ec2:eu-west-1:111111111111:instance/i-0bbb")],
         [err("aws.ssm", f"{R1}/i-0aaa", ("patch",), operation="DescribeInstancePatches")],
         {"arn:aws:ec2:eu-west-1:111111111111:instance/i-0aaa": NO,
          "arn:aws:ec2:eu-west-1:111111111111:instance/i-0bbb": OK}),
    Case("a subject-level error (explicit subject) covers that subject only", "patch_lag",
         [server("arn:i-0aaa"), server("arn:i-0bbb")],
         [err("aws.ssm", R1, ("patch",), subject="ARN:I-0AAA", asset_kinds=("server",))],
         {"arn:i-0aaa": NO, "arn:i-0bbb": OK}),
    Case("a subject-level error on a subject out of scope adds nothing", "patch_lag",
         [server("keep", tags={"env": "prod"}), server("other", tags={"env": "dev"})],
         [err("aws.ec2", R1, ("asset",), subject="other")], {"keep": OK},
         scope={"tags": {"env": "prod"}}),
    Case("two errors on one origin: two placeholders, apart", "patch_lag", [],
         [err("aws.ec2", R1, ("asset",), operation="DescribeInstances", message="throttled"),
          err("aws.ec2", R1, ("asset",), operation="DescribeInstances", message="timeout")],
         {}, placeholders=2),
    Case("two errors on one origin, both covering a subject: one result", "patch_lag",
         [server("a")],
         [err("aws.ssm", R1, ("patch",)), err("aws.ssm", R1, ("asset", "patch"))],
         {"a": NO}),
    Case("tenant A's identity failure leaves tenant B's users judged", "mfa_coverage",
         [user("b1@b.example", "entra/tenant-b"), user("b2@b.example", "entra/tenant-b")],
         [err("entra", "entra/tenant-a", ("identity",), facts={"tenant_id": "tenant-a"})],
         {"b1@b.example": OK, "b2@b.example": OK}, placeholders=1, params={}),
    Case("tenant A's failure never appears in tenant B's commitment (tags)", "patch_lag",
         [server("dev-b", "intune/tenant-b", "intune", "workstation",
                 tags={"customer": "b"})],
         [err("intune", "intune/tenant-a", ("asset", "patch"), tags={"customer": "a"})],
         {"dev-b": OK}, scope={"tags": {"customer": "b"}}),
    Case("tenant A's failure never appears in tenant B's commitment (facts)", "patch_lag",
         [server("dev-b", "intune/tenant-b", "intune", "workstation", tenant_id="tenant-b")],
         [err("intune", "intune/tenant-a", ("asset", "patch"),
              facts={"tenant_id": "tenant-a"})],
         {"dev-b": OK}, scope={"facts": {"tenant_id": "tenant-b"}}),
    Case("tenant A's failure is a placeholder in a commitment over both tenants", "patch_lag",
         [server("dev-b", "intune/tenant-b", "intune", "workstation",
                 tags={"customer": "b"})],
         [err("intune", "intune/tenant-a", ("asset", "patch"), tags={"customer": "a"})],
         {"dev-b": OK}, placeholders=1),
    Case("an error tagged with an excluded tag stays out", "patch_lag", [server("a")],
         [err("intune", "intune/t", ("asset", "patch"), tags={"customer": "x"})],
         {"a": OK}, scope={"exclude_tags": {"customer": "x"}}),
    Case("an error whose asset kinds the scope's facts exclude stays out", "patch_lag",
         [server("a")], [err(origin=R1, **RDS)],  # type: ignore[arg-type]
         {"a": OK}, scope={"facts": {"asset_kind": "server"}}),
    Case("an error from a source out of scope stays out", "patch_lag", [server("a")],
         [err("intune", "", ("asset", "patch"))], {"a": OK},
         scope={"sources": ("aws",)}),
    Case("an inventory error of one source covers nothing another source reported",
         "patch_lag", [server("a")], [err("aws.rds", R1, ("asset",))], {"a": OK},
         placeholders=1),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_error_attribution(case: Case) -> None:
    c = commitment(case.check, case.params, **case.scope)
    out = evaluate(contract(c), case.evidence, case.errors, AS_OF).outcomes[0]
    got = {r.subject: r.status for r in out.results if not r.subject.startswith("error:")}
    gaps = [r for r in out.results if r.subject.startswith("error:")]
    assert got == case.expect
    assert len(gaps) == case.placeholders
    assert all(g.status is NO for g in gaps)
    assert len({r.subject for r in out.results}) == len(out.results)  # unique per commitment
    untouched = not gaps and all(s is OK for s in got.values())
    assert (out.verdict.status is OK) == untouched


def test_placeholder_is_as_narrow_as_the_error() -> None:
    e = err(origin=R1, message="AccessDenied", **RDS)  # type: ignore[arg-type]
    out = evaluate(contract(commitment("patch_lag", DEADLINES)), [], [e], AS_OF)
    (gap,) = out.outcomes[0].results
    assert gap.subject == e.id and "[database]" in gap.subject
    assert "asset (database) in aws/111111111111/eu-west-1" in gap.reason
    assert "DescribeDBInstances" in gap.reason and "AccessDenied" in gap.reason


def test_identical_errors_get_distinct_placeholders() -> None:
    e = err("aws.ec2", R1, ("asset",), operation="DescribeInstances")
    out = evaluate(contract(commitment("patch_lag", DEADLINES)), [], [e, e], AS_OF)
    subjects = [r.subject for r in out.outcomes[0].results]
    assert sorted(subjects) == sorted([e.id, f"{e.id}#2"])


def test_placeholders_are_per_commitment_and_verdict_counts_only_its_errors() -> None:
    servers = commitment("patch_lag", DEADLINES, cid="S", asset_kinds=("server",))
    dbs = commitment("patch_lag", DEADLINES, cid="D", asset_kinds=("database",))
    e = err(origin=R1, **RDS)  # type: ignore[arg-type]
    out = evaluate(contract(servers, dbs), [server("a")], [e], AS_OF)
    by = {o.commitment.id: o for o in out.outcomes}
    assert by["S"].verdict.status is OK
    assert [r.subject for r in by["D"].results] == [e.id]
    assert bears_on(e, dbs, frozenset({"asset", "patch"}))
    assert not bears_on(e, servers, frozenset({"asset", "patch"}))


@pytest.mark.parametrize(("error", "evidence", "covered"), [
    ("aws/1", "aws/1/eu-west-1", True),
    ("AWS/1/", "aws/1/EU-west-1", True),
    ("aws/1/eu-west-1/", "aws/1/eu-west-1", True),
    ("aws/1", "aws/12", False),
    ("", "anything", True),
    ("entra/A", "entra/b", False),
])
def test_origin_covers_in_canonical_form(error: str, evidence: str, covered: bool) -> None:
    assert origin_covers(error, evidence) is covered
    assert canonical_origin("Entra/ABC/") == "entra/abc"


def test_old_style_error_is_built_and_named_as_before() -> None:
    e = CollectionError(source="s", origin="o", kinds=["asset"], message="m")  # type: ignore[arg-type]
    assert e.kinds == ("asset",) and e.asset_kinds == () and e.subject == ""
    assert e.id == "error:s:o:asset:"
