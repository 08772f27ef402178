"""Administrator-equivalence of one IAM user, case by case from AWS's documentation.

Each case names the page of the IAM User Guide (or the escalation research) it comes from.
The users are built as GetAccountAuthorizationDetails returns them (boto3 shapes).
"""

from __future__ import annotations

from typing import Any

import pytest

from clausewatch.collectors.aws.iam_admins import assess_users
from clausewatch.collectors.aws.iam_policy import (
    Answer,
    Principal,
    Somewhere,
    decide,
    load_document,
    policy,
)

UG = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"
EVAL = UG + "reference_policies_evaluation-logic_policy-eval-denyallow.html"
ACTION = UG + "reference_policies_elements_action.html"
NOTACTION = UG + "reference_policies_elements_notaction.html"
RESOURCE = UG + "reference_policies_elements_resource.html"
NOTRESOURCE = UG + "reference_policies_elements_notresource.html"
CONDITION = UG + "reference_policies_elements_condition.html"
STATEMENT = UG + "reference_policies_elements_statement.html"
GRAMMAR = UG + "reference_policies_grammar.html"
VARIABLES = UG + "reference_policies_variables.html"
BOUNDARY = UG + "access_policies_boundaries.html"
RHINO = "https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/"

ACCOUNT = "123456789012"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
LOCAL = f"arn:aws:iam::{ACCOUNT}:policy/"
FULL = "full access (any service, IAM included, on every resource)"
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "false"}}


def doc(*statements: dict[str, Any], version: str = "2012-10-17") -> dict[str, Any]:
    return {"Version": version, "Statement": list(statements)}


def allow(action: Any = "*", resource: Any = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


def deny(action: Any = "*", resource: Any = "*", **more: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **more}


def managed(name: str, document: Any, arn: str | None = None) -> dict[str, Any]:
    """A ManagedPolicyDetail whose default version holds ``document``."""
    return {"PolicyName": name, "Arn": arn or LOCAL + name, "DefaultVersionId": "v1",
            "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True,
                                   "Document": document}]}


def attached(name: str) -> dict[str, str]:
    return {"PolicyName": name, "PolicyArn": LOCAL + name}


def user(*, inline: Any = None, managed_names: tuple[str, ...] = (), groups: tuple[str, ...] = (),
         boundary: str | None = None, name: str = "alice") -> dict[str, Any]:
    out: dict[str, Any] = {
        "UserName": name, "UserId": "AIDAALICE", "Arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "UserPolicyList": [] if inline is None else [{"PolicyName": "own",
                                                      "PolicyDocument": inline}],
        "AttachedManagedPolicies": [attached(n) for n in managed_names],
        "GroupList": list(groups),
    }
    if boundary:
        out["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy",
                                      "PermissionsBoundaryArn": LOCAL + boundary}
    return out


def group(name: str, *, inline: Any = None, managed_names: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"GroupName": name, "Arn": f"arn:aws:iam::{ACCOUNT}:group/{name}",
            "GroupPolicyList": [] if inline is None else [{"PolicyName": f"{name}-inline",
                                                           "PolicyDocument": inline}],
            "AttachedManagedPolicies": [attached(n) for n in managed_names]}


def judge(u: dict[str, Any], groups: tuple[dict[str, Any], ...] = (),
          policies: tuple[dict[str, Any], ...] = ()) -> tuple[bool | None, str | None]:
    found = assess_users([u], list(groups), list(policies), account=ACCOUNT)[u["Arn"]]
    return found.privileged, found.reason


CASES: list[tuple[str, str, dict[str, Any], bool | None, str | None]] = [
    # (id, source, kwargs for judge, privileged, text the reason contains)
    ("IAM:* (prefix case-insensitive), Action a string", ACTION,
     {"u": user(inline=doc(allow("IAM:*")))}, True, "iam:* on every IAM resource"),
    ("iam:Put*Policy (wildcard in the name)", ACTION,
     {"u": user(inline=doc(allow("iam:Put*Policy")))}, True, "iam:PutUserPolicy on itself"),
    ("i?m:* (single-character wildcard)", ACTION,
     {"u": user(inline=doc(allow("i?m:*")))}, True, "iam:* on every IAM resource"),
    ("IAM:ATTACHUSERPOLICY in capitals", ACTION,
     {"u": user(inline=doc(allow(["s3:GetObject", "IAM:ATTACHUSERPOLICY"])))}, True,
     "iam:AttachUserPolicy on itself"),
    ("NotAction s3:* on * allows everything else", NOTACTION,
     {"u": user(inline=doc({"Effect": "Allow", "NotAction": ["s3:*"], "Resource": "*"}))},
     True, FULL),
    ("NotAction iam:* on * (everything but IAM) is not an administrator", NOTACTION,
     {"u": user(inline=doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}))},
     False, None),
    ("PowerUserAccess-like NotAction iam/organizations/account", NOTACTION,
     {"u": user(inline=doc({"Effect": "Allow", "Resource": "*",
                            "NotAction": ["iam:*", "organizations:*", "account:*"]}))},
     False, None),
    ("* with NotResource one bucket (the combination the page warns against)", NOTRESOURCE,
     {"u": user(inline=doc({"Effect": "Allow", "Action": "*",
                            "NotResource": "arn:aws:s3:::HRBucket"}))},
     True, FULL),
    ("explicit Deny iam:* overrides Allow *", EVAL,
     {"u": user(inline=doc(allow(), deny("iam:*")))}, False, None),
    ("Deny NotAction s3:* leaves only S3", NOTACTION,
     {"u": user(inline=doc(allow(), {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}))},
     False, None),
    ("a Deny with a Condition is not a certain deny", CONDITION,
     {"u": user(inline=doc(allow(), deny("*", "*", Condition=MFA)))}, True,
     FULL),
    ("an Allow with a Condition still counts", CONDITION,
     {"u": user(inline=doc(allow("iam:*", "*", Condition=MFA)))}, True, "under a condition"),
    ("a Deny whose service prefix has a wildcard is not certain", ACTION,
     {"u": user(inline=doc(allow(), deny("i?m:*")))}, True, FULL),
    ("a Deny scoped to one user leaves the rest", RESOURCE,
     {"u": user(inline=doc(allow(), deny("iam:*", f"arn:aws:iam::{ACCOUNT}:user/bob")))}, True,
     FULL),
    ("boundary s3:* limits *:* (not an administrator)", BOUNDARY,
     {"u": user(inline=doc(allow()), boundary="s3only"),
      "policies": (managed("s3only", doc(allow("s3:*"))),)}, False, None),
    ("boundary * limits nothing", BOUNDARY,
     {"u": user(inline=doc(allow()), boundary="all"),
      "policies": (managed("all", doc(allow())),)}, True, "within permissions boundary all"),
    ("a Deny in the boundary wins", BOUNDARY,
     {"u": user(inline=doc(allow()), boundary="noiam"),
      "policies": (managed("noiam", doc(allow(), deny("iam:*"))),)}, False, None),
    ("a boundary grants nothing by itself", BOUNDARY,
     {"u": user(inline=doc(allow("s3:*")), boundary="all"),
      "policies": (managed("all", doc(allow())),)}, False, None),
    ("a boundary that lets the user delete it", BOUNDARY,
     {"u": user(inline=doc(allow()), boundary="leaky"),
      "policies": (managed("leaky", doc(allow(["s3:*", "iam:DeleteUserPermissionsBoundary"]))),)},
     True, "can lift its permissions boundary"),
    ("group inline policy", EVAL,
     {"u": user(groups=("ops",)), "groups": (group("ops", inline=doc(allow())),)}, True,
     "inline policy ops-inline of group ops"),
    ("group managed policy", EVAL,
     {"u": user(groups=("ops",)), "groups": (group("ops", managed_names=("full",)),),
      "policies": (managed("full", doc(allow("iam:*"))),)}, True,
     "group ops's managed policy full"),
    ("a group's Deny applies to its members", EVAL,
     {"u": user(inline=doc(allow()), groups=("fence",)),
      "groups": (group("fence", inline=doc(deny("iam:*"))),)}, False, None),
    ("inline user policy", EVAL,
     {"u": user(inline=doc(allow()))}, True, "inline policy own of user alice"),
    ("managed user policy, default version only", EVAL,
     {"u": user(managed_names=("v",)),
      "policies": ({"PolicyName": "v", "Arn": LOCAL + "v", "DefaultVersionId": "v2",
                    "PolicyVersionList": [
                        {"VersionId": "v1", "IsDefaultVersion": False, "Document": doc(allow())},
                        {"VersionId": "v2", "IsDefaultVersion": True,
                         "Document": doc(allow("s3:*"))}]},)},
     False, None),
    ("iam:* on another user only (bob on alice) is not an administrator", RESOURCE,
     {"u": user(name="bob", inline=doc(allow("iam:*", ALICE)))}, False, None),
    ("iam:* on its own user: it can put itself any policy", RESOURCE,
     {"u": user(inline=doc(allow("iam:*", ALICE)))}, True, "iam:PutUserPolicy on itself"),
    ("resource names are case sensitive: user/ALICE is not alice", RESOURCE,
     {"u": user(inline=doc(allow("iam:PutUserPolicy", f"arn:aws:iam::{ACCOUNT}:user/ALICE")))},
     False, None),
    ("Statement a single object", STATEMENT,
     {"u": user(inline={"Version": "2012-10-17", "Statement": allow()})}, True,
     FULL),
    ("Action and Resource single strings in a list-less statement", GRAMMAR,
     {"u": user(inline=doc(allow("iam:CreatePolicyVersion", "*")))}, True,
     "iam:CreatePolicyVersion"),
    ("self-service ${aws:username} credentials are not an escalation", VARIABLES,
     {"u": user(inline=doc(allow(["iam:CreateAccessKey", "iam:UpdateLoginProfile"],
                                 "arn:aws:iam::*:user/${aws:username}")))}, False, None),
    ("PutUserPolicy on user/${aws:username} is", VARIABLES,
     {"u": user(inline=doc(allow("iam:PutUserPolicy", "arn:aws:iam::*:user/${aws:username}")))},
     True, "iam:PutUserPolicy on itself"),
    ("Version 2008-10-17 takes ${...} literally", VARIABLES,
     {"u": user(inline=doc(allow("iam:PutUserPolicy", "arn:aws:iam::*:user/${aws:username}"),
                           version="2008-10-17"))}, False, None),
    ("an unknown variable in an Allow may match", VARIABLES,
     {"u": user(inline=doc(allow("iam:AttachUserPolicy",
                                 "arn:aws:iam::*:user/${aws:PrincipalTag/team}")))}, True,
     "iam:AttachUserPolicy on itself"),
    ("CreatePolicyVersion on a policy attached to itself", RHINO,
     {"u": user(managed_names=("mine",)),
      "policies": (managed("mine", doc(allow("iam:CreatePolicyVersion", LOCAL + "mine"))),)},
     True, "iam:CreatePolicyVersion on its own managed policies"),
    ("CreateAccessKey on every user", RHINO,
     {"u": user(inline=doc(allow("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/*")))},
     True, "iam:CreateAccessKey on every user"),
    ("UpdateAssumeRolePolicy on every role", RHINO,
     {"u": user(inline=doc(allow("iam:UpdateAssumeRolePolicy", "arn:aws:iam::*:role/*")))},
     True, "iam:UpdateAssumeRolePolicy on every role"),
    ("PassRole with ec2:RunInstances", RHINO,
     {"u": user(inline=doc(allow("iam:PassRole"), allow("ec2:RunInstances",
                                                       "arn:aws:ec2:eu-west-3:*:*")))},
     True, "iam:PassRole on every role with ec2:RunInstances"),
    ("PassRole alone", RHINO, {"u": user(inline=doc(allow("iam:PassRole")))}, False, None),
    ("lambda:* alone", RHINO, {"u": user(inline=doc(allow("lambda:*")))}, False, None),
    ("read-only IAM", ACTION,
     {"u": user(inline=doc(allow(["iam:Get*", "iam:List*"])))}, False, None),
    ("a document that is not JSON: unknown, never False", GRAMMAR,
     {"u": user(inline="{not json")}, None, "inline policy own of user alice could not be read"),
    ("a statement outside the grammar (Action and NotAction): unknown", GRAMMAR,
     {"u": user(inline=doc({"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*",
                            "Resource": "*"}))}, None, "could not be read"),
    ("an unreadable policy does not hide an administrator", GRAMMAR,
     {"u": user(inline=doc(allow()), managed_names=("gone",))}, True,
     FULL),
    ("a boundary whose document is missing: unknown", BOUNDARY,
     {"u": user(inline=doc(allow()), boundary="gone")}, None,
     "permissions boundary gone (its document was not returned) could not be read"),
]


@pytest.mark.parametrize(("source", "kwargs", "privileged", "reason"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_administrator_equivalence(source: str, kwargs: dict[str, Any], privileged: bool | None,
                                   reason: str | None) -> None:
    found, why = judge(**kwargs)
    assert found is privileged, (source, why)
    if reason is None:
        assert why is None
    else:
        assert why is not None and reason in why, (source, why)


def test_reason_names_policy_and_statement() -> None:
    _, why = judge(user(inline=doc(allow("s3:*"), {"Sid": "Ops", "Effect": "Allow",
                                                    "Action": "IAM:*", "Resource": "*"})))
    assert why == ("iam:* on every IAM resource: inline policy own of user alice, "
                   "statement 'Ops'")


def test_aws_managed_policies_known_by_name_when_their_document_is_missing() -> None:
    aws = "arn:aws:iam::aws:policy/"
    for name, expected in (("AdministratorAccess", True), ("IAMFullAccess", True),
                           ("ReadOnlyAccess", None)):
        u = user()
        u["AttachedManagedPolicies"] = [{"PolicyName": name, "PolicyArn": aws + name}]
        found, why = judge(u)
        assert found is expected, why
    # a returned document is evaluated, whatever the name says
    u = user()
    u["AttachedManagedPolicies"] = [{"PolicyName": "AdministratorAccess",
                                     "PolicyArn": aws + "AdministratorAccess"}]
    assert judge(u, policies=(managed("AdministratorAccess", doc(allow("s3:*")),
                                      aws + "AdministratorAccess"),))[0] is False


def test_across_users_joining_a_group_and_taking_over_an_administrator() -> None:
    admins = group("admins", inline=doc(allow()))
    staff = group("staff", inline=doc(allow("s3:*")))
    boss = user(name="boss", groups=("admins",))
    joiner = user(name="joiner", inline=doc(allow("iam:AddUserToGroup",
                                                  f"arn:aws:iam::{ACCOUNT}:group/admins")))
    shy = user(name="shy", inline=doc(allow("iam:AddUserToGroup",
                                            f"arn:aws:iam::{ACCOUNT}:group/staff")))
    thief = user(name="thief", inline=doc(allow("iam:CreateAccessKey",
                                                f"arn:aws:iam::{ACCOUNT}:user/boss")))
    chain = user(name="chain", inline=doc(allow("iam:CreateLoginProfile",
                                                f"arn:aws:iam::{ACCOUNT}:user/thief")))
    harmless = user(name="harmless", inline=doc(allow("iam:CreateAccessKey",
                                                      f"arn:aws:iam::{ACCOUNT}:user/shy")))
    out = assess_users([boss, joiner, shy, thief, chain, harmless], [admins, staff], [],
                       account=ACCOUNT)
    got = {arn.rsplit("/", 1)[-1]: (a.privileged, a.reason or "") for arn, a in out.items()}
    assert got["boss"][0] is True
    assert got["joiner"][0] is True and "iam:AddUserToGroup on group admins" in got["joiner"][1]
    assert got["shy"] == (False, "")
    assert got["thief"][0] is True and "take over administrator boss" in got["thief"][1]
    assert got["chain"][0] is True and "take over administrator thief" in got["chain"][1]
    assert got["harmless"] == (False, "")


def test_a_group_listed_but_not_returned_leaves_the_member_unknown() -> None:
    assert judge(user(groups=("ghost",)))[0] is None


def test_decide_one_request() -> None:
    p = Principal(arn=ALICE, name="alice", account=ACCOUNT, policies=(
        policy("p", doc(allow("s3:*", "arn:aws:s3:::logs/*"), deny("s3:DeleteObject"))),))
    assert decide(p, "S3:GetObject", "arn:aws:s3:::logs/a").answer is Answer.ALLOWED
    assert decide(p, "s3:GetObject", "arn:aws:s3:::LOGS/a").answer is Answer.NO
    assert decide(p, "s3:DeleteObject", "arn:aws:s3:::logs/a").answer is Answer.NO
    assert decide(p, "s3:PutObject", Somewhere("s3")).answer is Answer.ALLOWED
    assert decide(p, "ec2:RunInstances", Somewhere("ec2")).answer is Answer.NO


def test_documents_as_the_api_sends_them() -> None:
    encoded = ("%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A"
               "%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D")
    assert load_document(encoded) == {"Statement": [{"Effect": "Allow", "Action": "*",
                                                     "Resource": "*"}]}
    assert judge(user(inline=encoded))[0] is True
    assert load_document(None) is None and load_document("[1]") is None


def test_taking_over_a_user_of_unknown_privilege_is_unknown_not_false() -> None:
    murky = user(name="murky", inline="{not json")
    taker = user(name="taker", inline=doc(allow("iam:CreateAccessKey",
                                                f"arn:aws:iam::{ACCOUNT}:user/murky")))
    out = assess_users([murky, taker], [], [], account=ACCOUNT)
    found = out[taker["Arn"]]
    assert found.privileged is None and found.reason is not None
    assert "may take over murky" in found.reason
