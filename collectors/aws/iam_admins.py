"""What "administrator-equivalent" means for an IAM user, and who is one in an account.

Any one of :data:`CRITERIA` (checked in order; the first that holds is the reason given):

1. full access (any service, IAM included, on every resource): ``*``, ``NotAction`` of a
   few services, ``NotResource`` (AdministratorAccess);
2. ``iam:*`` on every IAM resource (``IAMFullAccess``: it can grant itself anything);
3. a privilege-escalation path by which a principal gives itself any permission, after Rhino
   Security Labs, "AWS IAM Privilege Escalation – Methods and Mitigation" (2018) and its
   ``aws_escalate.py``: ``iam:PutUserPolicy``/``AttachUserPolicy`` on itself,
   ``PutGroupPolicy``/``AttachGroupPolicy`` on its groups or every group,
   ``CreatePolicyVersion``/``SetDefaultPolicyVersion`` on its managed policies or every policy,
   ``AddUserToGroup`` on every group, ``CreateAccessKey``/``CreateLoginProfile``/
   ``UpdateLoginProfile`` on every user, ``PutRolePolicy``/``AttachRolePolicy``/
   ``UpdateAssumeRolePolicy`` on every role, and ``iam:PassRole`` on every role with
   ``ec2:RunInstances``, ``lambda:CreateFunction``, ``glue:CreateDevEndpoint``,
   ``cloudformation:CreateStack`` or ``datapipeline:CreatePipeline``.
   Where Rhino pairs a role action with ``sts:AssumeRole``, the role action alone counts: a
   trust policy naming the user lets it assume the role with no identity permission, and trust
   policies are not read (fail closed). ``lambda:UpdateFunctionCode`` and
   ``glue:UpdateDevEndpoint`` are left out: they borrow an existing resource's role, whose reach
   depends on which roles exist, not on the user's policies;
4. lifting its own permissions boundary (``iam:DeleteUserPermissionsBoundary``/
   ``PutUserPermissionsBoundary`` on itself) when, without it, 1–3 hold;
5. across users (:func:`assess_users`): adding itself to a group that makes it an
   administrator, or getting credentials (1–3's credential actions) of an administrator.

AdministratorAccess and IAMFullAccess are covered because their documents are evaluated like any
other; if GetAccountAuthorizationDetails did not return an attached AWS managed policy's
document, those two are known by name (:data:`KNOWN_BY_NAME`), and any other makes the answer
unknown unless the user is an administrator by another policy.

Out of reach, documented in docs/aws.md: service and resource control policies (AWS
Organizations; not visible through a member account's IAM API; they only ever remove
permissions, so ignoring them can only count too many administrators); resource-based policies
and role trust policies (a user whose way to power is assuming an administrator role is not
found here); session policies (not used by IAM users).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from clausewatch.collectors.aws.iam_policy import (
    PROBES,
    VARIABLES_VERSION,
    Answer,
    Outcome,
    Policy,
    Principal,
    Resource,
    Somewhere,
    all_of,
    any_of,
    decide,
    policy,
)

#: AWS managed policies known by name, used when their document was not returned.
KNOWN_BY_NAME: Final[Mapping[str, Mapping[str, Any]]] = {
    "AdministratorAccess": {"Version": VARIABLES_VERSION, "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    "IAMFullAccess": {"Version": VARIABLES_VERSION, "Statement": [
        {"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]},
}


@dataclass(frozen=True, slots=True)
class Assessment:
    """``privileged`` True (and why), False, or None when the policies cannot tell."""

    privileged: bool | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class Criterion:
    """Holds when every ``(actions, target)`` need is allowed (each action, on the target)."""

    label: str
    needs: tuple[tuple[tuple[str, ...], str], ...]


def _one(action: str, target: str, why: str) -> Criterion:
    return Criterion(f"{action} on {_TARGET_WORDS[target]} ({why})", (((action,), target),))


_TARGET_WORDS = {"self": "itself", "group": "its own groups or every group",
                 "policy": "its own managed policies or every policy", "groups": "every group",
                 "users": "every user", "roles": "every role"}
_ANY_ACTION = tuple(f"{p}:{p}" for p in PROBES)
_IAM_ACTION = tuple(f"iam:{p}" for p in PROBES)
_GRANT = "can grant itself any permission"
_PASS = "can run code as any role"

#: Administrator-equivalent, in the order reasons are given (see the module docstring).
CRITERIA: Final[tuple[Criterion, ...]] = (
    Criterion("full access (any service, IAM included, on every resource)",
              ((_ANY_ACTION, "anything"), (_IAM_ACTION, "iam"))),
    Criterion("iam:* on every IAM resource", ((_IAM_ACTION, "iam"),)),
    _one("iam:PutUserPolicy", "self", _GRANT),
    _one("iam:AttachUserPolicy", "self", _GRANT),
    _one("iam:PutGroupPolicy", "group", _GRANT),
    _one("iam:AttachGroupPolicy", "group", _GRANT),
    _one("iam:CreatePolicyVersion", "policy", _GRANT),
    _one("iam:SetDefaultPolicyVersion", "policy", "can switch to a broader version"),
    _one("iam:AddUserToGroup", "groups", "can join any group"),
    _one("iam:CreateAccessKey", "users", "can act as any user"),
    _one("iam:CreateLoginProfile", "users", "can act as any user"),
    _one("iam:UpdateLoginProfile", "users", "can act as any user"),
    _one("iam:PutRolePolicy", "roles", "can grant any role any permission"),
    _one("iam:AttachRolePolicy", "roles", "can grant any role any permission"),
    _one("iam:UpdateAssumeRolePolicy", "roles", "can let itself assume any role"),
    *(Criterion(f"iam:PassRole on every role with {run} ({_PASS})",
                ((("iam:PassRole",), "roles"), ((run,), f"in:{run.split(':')[0]}")))
      for run in ("ec2:RunInstances", "lambda:CreateFunction", "glue:CreateDevEndpoint",
                  "cloudformation:CreateStack", "datapipeline:CreatePipeline")),
)
_CANNOT = "cannot tell whether it is an administrator"
_ESCAPE = ("iam:DeleteUserPermissionsBoundary", "iam:PutUserPermissionsBoundary")


def _targets(p: Principal, target: str) -> list[tuple[Resource, ...]]:
    """Alternatives, each a set of resources that must all be allowed."""
    iam = f"arn:{p.partition}:iam::{p.account}:"
    every = {"users": "user/", "roles": "role/", "groups": "group/", "policies": "policy/"}
    if target == "anything":
        return [tuple(f"arn:{p.partition}:{x}:{x}:{p.account}:{x}" for x in PROBES)]
    if target == "iam":
        return [tuple(iam + x for x in PROBES)]
    if target == "self":
        return [(p.arn,)]
    if target == "group":
        return [*((g,) for g in p.group_arns), *_targets(p, "groups")]
    if target == "policy":
        return [*((a,) for a in p.managed_arns), *_targets(p, "policies")]
    if target in every:
        return [tuple(iam + every[target] + x for x in PROBES)]
    return [(Somewhere(target.removeprefix("in:"), p.partition, p.account),)]


def holds(p: Principal, criterion: Criterion) -> Outcome:
    return all_of(
        any_of(all_of(decide(p, a, r) for a in actions for r in alternative)
               for alternative in _targets(p, target))
        for actions, target in criterion.needs
    )


def assess(p: Principal) -> Assessment:
    """Whether one user, by its own and its groups' policies, is administrator-equivalent."""
    unknown: str | None = None
    for criterion in CRITERIA:
        out = holds(p, criterion)
        if out.answer is Answer.ALLOWED:
            return Assessment(True, f"{criterion.label}: {out.why}")
        if out.answer is Answer.UNKNOWN and unknown is None:
            unknown = out.why
    if p.boundary is not None:
        escape = any_of(decide(p, a, p.arn) for a in _ESCAPE)
        if escape.answer is not Answer.NO:
            free = assess(replace(p, boundary=None))
            if free.privileged and escape.answer is Answer.ALLOWED:
                return Assessment(True, f"can lift its permissions boundary ({escape.why}), "
                                        f"then {free.reason}")
            if free.privileged is not False:
                unknown = unknown or escape.why or free.reason
    if unknown is not None:
        return Assessment(None, f"{_CANNOT}: {unknown}")
    return Assessment(False, None)


# --- a whole account (GetAccountAuthorizationDetails) --------------------------------------


@dataclass(slots=True)
class _Account:
    account: str
    partition: str
    groups: Mapping[str, Mapping[str, Any]]
    policies: Mapping[str, Mapping[str, Any]]
    principals: dict[str, Principal] = field(default_factory=dict)

    def managed(self, attached: Mapping[str, Any], how: str) -> Policy:
        arn = str(attached.get("PolicyArn") or attached.get("PermissionsBoundaryArn") or "")
        name = str(attached.get("PolicyName") or arn.rsplit("/", 1)[-1])
        label = f"{how} {name}"
        detail = self.policies.get(arn)
        for version in (detail or {}).get("PolicyVersionList", []):
            default = (detail or {}).get("DefaultVersionId")
            if version.get("IsDefaultVersion") or (default and version.get("VersionId") == default):
                return policy(label, version.get("Document"))
        aws_managed = arn == f"arn:{self.partition}:iam::aws:policy/{name}"
        if aws_managed and name in KNOWN_BY_NAME:
            return policy(f"{label} (known by name: its document was not returned)",
                          KNOWN_BY_NAME[name])
        return Policy(f"{label} (its document was not returned)", None)

    def principal(self, user: Mapping[str, Any]) -> Principal:
        uname = str(user.get("UserName", ""))
        pols = [policy(f"inline policy {i.get('PolicyName')} of user {uname}",
                       i.get("PolicyDocument")) for i in user.get("UserPolicyList", [])]
        pols += [self.managed(m, "managed policy") for m in user.get("AttachedManagedPolicies", [])]
        managed = [m.get("PolicyArn", "") for m in user.get("AttachedManagedPolicies", [])]
        group_arns = []
        for gname in user.get("GroupList", []):
            group = self.groups.get(gname)
            if group is None:
                pols.append(Policy(f"group {gname} (not returned)", None))
                continue
            group_arns.append(str(group.get("Arn", "")))
            pols += self.group_policies(group)
            managed += [m.get("PolicyArn", "") for m in group.get("AttachedManagedPolicies", [])]
        bound = user.get("PermissionsBoundary")
        boundary = (self.managed(bound, "permissions boundary")
                    if isinstance(bound, Mapping) and bound.get("PermissionsBoundaryArn") else None)
        return Principal(
            arn=str(user.get("Arn", "")), name=uname, account=self.account,
            partition=self.partition, user_id=str(user.get("UserId", "")), policies=tuple(pols),
            boundary=boundary, group_arns=tuple(group_arns),
            managed_arns=tuple(a for a in managed if a and ":iam::aws:policy/" not in a),
        )

    def group_policies(self, group: Mapping[str, Any]) -> list[Policy]:
        gname = group.get("GroupName")
        out = [policy(f"inline policy {i.get('PolicyName')} of group {gname}",
                      i.get("PolicyDocument")) for i in group.get("GroupPolicyList", [])]
        return out + [self.managed(m, f"group {gname}'s managed policy")
                      for m in group.get("AttachedManagedPolicies", [])]


def assess_users(
    users: Sequence[Mapping[str, Any]],
    groups: Sequence[Mapping[str, Any]],
    policies: Sequence[Mapping[str, Any]],
    *,
    account: str,
    partition: str = "aws",
) -> dict[str, Assessment]:
    """User ARN -> assessment, from GetAccountAuthorizationDetails' ``UserDetailList``,
    ``GroupDetailList`` and ``Policies``; then what one user can do to become another."""
    acct = _Account(account, partition, {str(g.get("GroupName")): g for g in groups},
                    {str(p.get("Arn")): p for p in policies})
    people = {str(u.get("Arn")): acct.principal(u) for u in users}
    out = {arn: assess(p) for arn, p in people.items()}
    for arn, p in people.items():
        if out[arn].privileged is not True:
            out[arn] = _join_group(acct, p, out[arn])
    changed = True
    while changed:
        changed = False
        for arn, found in _takeovers(people, out):
            if found != out[arn]:
                out[arn], changed = found, True
    return out


def _join_group(acct: _Account, p: Principal, current: Assessment) -> Assessment:
    if decide(p, "iam:AddUserToGroup", Somewhere("iam")).answer is Answer.NO:
        return current
    for group in acct.groups.values():
        garn = str(group.get("Arn", ""))
        if garn in p.group_arns:
            continue
        may = decide(p, "iam:AddUserToGroup", garn)
        if may.answer is Answer.NO:
            continue
        joined = assess(replace(p, policies=(*p.policies, *acct.group_policies(group)),
                                group_arns=(*p.group_arns, garn)))
        if joined.privileged and may.answer is Answer.ALLOWED:
            return Assessment(True, f"iam:AddUserToGroup on group {group.get('GroupName')} "
                                    f"({may.why}), which gives {joined.reason}")
        if joined.privileged is not False and current.privileged is False:
            why = may.why if may.answer is Answer.UNKNOWN else joined.reason
            current = Assessment(None, f"{_CANNOT}: it may join group "
                                       f"{group.get('GroupName')} ({why})")
    return current


_TAKEOVER = ("iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile")


def _takeovers(
    people: Mapping[str, Principal], out: Mapping[str, Assessment]
) -> Iterator[tuple[str, Assessment]]:
    """Users who can get credentials of an administrator (or of a user not known not to be)."""
    for arn, p in people.items():
        if out[arn].privileged is True:
            continue
        if all(decide(p, a, Somewhere("iam")).answer is Answer.NO for a in _TAKEOVER):
            continue
        for other, their in out.items():
            if other == arn or their.privileged is False:
                continue
            may = any_of(decide(p, a, other) for a in _TAKEOVER)
            name = people[other].name
            if may.answer is Answer.ALLOWED and their.privileged:
                yield arn, Assessment(True, f"can take over administrator {name} ({may.why})")
                break
            if may.answer is not Answer.NO and out[arn].privileged is False:
                why = may.why if may.answer is Answer.UNKNOWN else their.reason
                yield arn, Assessment(None, f"{_CANNOT}: it may take over {name} ({why})")
                break
