"""The IAM policy language, as AWS evaluates it: may this user perform this action on this resource?

Pure: no API calls. Sources, in the AWS IAM User Guide (docs.aws.amazon.com/IAM/latest/UserGuide/):

* ``reference_policies_evaluation-logic.html`` and ``…_policy-eval-denyallow.html``: every
  request is implicitly denied; an explicit ``Deny`` in any applicable policy overrides any
  ``Allow``; otherwise an ``Allow`` in an identity-based policy allows it.
* ``access_policies_boundaries.html``: a user's permissions boundary sets the maximum its
  identity-based policies can grant; the effective permissions are the intersection of the two,
  and an explicit deny in either wins. No boundary, no limit.
* ``reference_policies_elements_action.html`` (and ``…_notaction``): "The prefix and the action
  name are case insensitive"; ``*`` and ``?`` wildcards; ``NotAction`` matches every action but
  those listed. ``reference_policies_elements_resource.html`` (and ``…_notresource``): ``*`` and
  ``?`` within ARN segments, ``*`` may run across ``:``; "In the Resource element, the IAM user
  name is case sensitive": resources are matched with case.
* ``reference_policies_elements_statement.html``: ``Statement`` is one object or an array;
  ``reference_policies_grammar.html``: ``Action``/``Resource`` values are a string or an array.
* ``reference_policies_variables.html`` and ``…_elements_version.html``: ``${aws:username}``
  and friends are substituted only in ``Version`` ``2012-10-17`` documents; ``${*}``, ``${?}``,
  ``${$}`` stand for the literal characters.

A request is decided from the user's identity-based policies (inline and managed, its own and
its groups') and its boundary. The request context is not known, so both doubts are resolved
towards "it may be allowed" (fail closed):

* an ``Allow`` with a ``Condition`` counts as an allow; a ``Deny`` with one is never a certain
  deny;
* a policy variable that cannot be resolved (``${aws:PrincipalTag/team}``) matches anything in
  an ``Allow`` and nothing certain in a ``Deny``; so does a wildcard in an action's service
  prefix or an ARN's service segment (``i?m:*``): AWS documents wildcards in names, not there;
* a document that cannot be read (not returned, not JSON, not of the grammar) makes the answer
  unknown, never "no".

"Every resource of a kind" is asked with names only a wildcard matches (:data:`PROBES`):
``user/*`` covers them, ``user/${aws:username}`` (the self-service policy) does not.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any, Final

#: Names no policy spells literally: only a wildcard (``*``, ``?*``) matches both.
PROBES: Final = ("\x01", "\x01\x02\x03\x04\x05\x06\x07\x08")
VARIABLES_VERSION: Final = "2012-10-17"
_VAR = re.compile(r"\$\{([^}]*)\}")
_LITERAL = {"*": "*", "?": "?", "$": "$"}


class Answer(Enum):
    ALLOWED = "allowed"
    NO = "no"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Outcome:
    """A decision, with the statement that allowed it or why it is unknown."""

    answer: Answer
    why: str | None = None


NO: Final = Outcome(Answer.NO)


@dataclass(frozen=True, slots=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditional: bool
    variables: bool
    label: str


@dataclass(frozen=True, slots=True)
class Policy:
    """A policy as it applies to a user; ``statements`` None: its document could not be read."""

    name: str
    statements: tuple[Statement, ...] | None


@dataclass(frozen=True, slots=True)
class Principal:
    """An IAM user and every policy that applies to it."""

    arn: str
    name: str
    account: str
    partition: str = "aws"
    user_id: str = ""
    policies: tuple[Policy, ...] = ()
    boundary: Policy | None = None
    group_arns: tuple[str, ...] = ()
    managed_arns: tuple[str, ...] = ()  # customer managed policies attached, directly or not

    def variables(self) -> dict[str, str]:
        return {"aws:username": self.name, "aws:userid": self.user_id,
                "aws:principalaccount": self.account, "aws:principalarn": self.arn,
                "aws:principaltype": "User"}


@dataclass(frozen=True, slots=True)
class Somewhere:
    """Any one resource of a service (a deny counts only if it covers all of them)."""

    service: str
    partition: str = "aws"
    account: str = ""

    def probes(self) -> tuple[str, ...]:
        return tuple(f"arn:{self.partition}:{self.service}:{x}:{self.account}:{x}"
                     for x in PROBES)


Resource = str | Somewhere


# --- documents -----------------------------------------------------------------------------


def load_document(raw: Any) -> Mapping[str, Any] | None:
    """A document as boto3 gives it (a dict: botocore decodes the API's URL-encoded JSON) or as
    the API sends it (RFC 3986 URL-encoded JSON text); None if it cannot be read."""
    if isinstance(raw, str):
        try:
            raw = json.loads(urllib.parse.unquote(raw))
        except ValueError:
            return None
    return raw if isinstance(raw, Mapping) else None


def policy(name: str, document: Any) -> Policy:
    """Parse a document into statements; an unreadable or ungrammatical one gives None."""
    doc = load_document(document)
    return Policy(name, None if doc is None else _statements(name, doc))


def _statements(name: str, doc: Mapping[str, Any]) -> tuple[Statement, ...] | None:
    body = doc.get("Statement")
    items = [body] if isinstance(body, Mapping) else body
    if not isinstance(items, list):
        return None
    variables = doc.get("Version") == VARIABLES_VERSION
    out = []
    for i, st in enumerate(items):
        parsed = _statement(st, variables, f"{name}, statement {_sid(st, i)}")
        if parsed is None:
            return None
        out.append(parsed)
    return tuple(out)


def _sid(st: Any, index: int) -> str:
    sid = st.get("Sid") if isinstance(st, Mapping) else None
    return f"'{sid}'" if isinstance(sid, str) and sid else f"#{index + 1}"


def _statement(st: Any, variables: bool, label: str) -> Statement | None:
    if not isinstance(st, Mapping) or st.get("Effect") not in ("Allow", "Deny"):
        return None
    actions, not_action = _element(st, "Action")
    resources, not_resource = _element(st, "Resource")
    if actions is None or resources is None:
        return None
    return Statement(
        effect=st["Effect"], actions=actions, not_action=not_action, resources=resources,
        not_resource=not_resource, conditional=bool(st.get("Condition")), variables=variables,
        label=label,
    )


def _element(st: Mapping[str, Any], key: str) -> tuple[tuple[str, ...] | None, bool]:
    """``Action`` or ``NotAction`` (exactly one), a string or a list of strings."""
    if (key in st) == (f"Not{key}" in st):
        return None, False
    negated = key not in st
    value = st[f"Not{key}" if negated else key]
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return None, negated
    return tuple(values), negated


# --- matching ------------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _pattern(
    text: str, action: bool, variables: tuple[tuple[str, str], ...] | None
) -> tuple[re.Pattern[str], re.Pattern[str] | None]:
    """The broad reading (what an Allow may match) and the narrow one (what a Deny certainly
    matches; None: nothing certain) of one Action or Resource value."""
    known = dict(variables or ())
    broad, narrow, certain = [], [], True
    pos = 0
    for m in _VAR.finditer(text) if variables is not None else ():
        b, n = _glob(text[pos:m.start()])
        broad.append(b)
        narrow.append(n)
        key = m.group(1).split(",", 1)[0].strip()
        if key in _LITERAL:
            broad.append(re.escape(_LITERAL[key]))
            narrow.append(re.escape(_LITERAL[key]))
        elif key.lower() in known:
            broad.append(re.escape(known[key.lower()]))
            narrow.append(re.escape(known[key.lower()]))
        else:
            broad.append(".*")
            certain = False
        pos = m.end()
    b, n = _glob(text[pos:])
    broad.append(b)
    narrow.append(n)
    if text != "*" and any(c in _service_part(text, action) for c in "*?"):
        certain = False
    flags = re.DOTALL | (re.IGNORECASE if action else 0)
    return (re.compile("".join(broad), flags),
            re.compile("".join(narrow), flags) if certain else None)


def _glob(text: str) -> tuple[str, str]:
    out = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return out, out


def _service_part(text: str, action: bool) -> str:
    if action:
        return text.split(":", 1)[0]
    parts = text.split(":")
    return parts[2] if len(parts) > 2 else "*"


def _matches(st: Statement, values: tuple[str, ...], target: str, action: bool,
             variables: tuple[tuple[str, str], ...], broad: bool) -> bool:
    var = variables if st.variables and not action else None
    for text in values:
        wide, narrow = _pattern(text, action, var)
        regex = wide if broad else narrow
        if regex is not None and regex.fullmatch(target):
            return True
    return False


def _applies(st: Statement, action: str, resource: Resource,
             variables: tuple[tuple[str, str], ...]) -> bool:
    """An Allow that may apply, or a Deny that certainly applies, to the request."""
    allow = st.effect == "Allow"
    if not allow and st.conditional:
        return False
    # Allow: NotAction excludes only what it certainly names; Deny: what it may name.
    hit = _matches(st, st.actions, action, True, variables, broad=allow != st.not_action)
    if hit == st.not_action:
        return False
    if isinstance(resource, Somewhere):
        if allow:
            if not st.not_resource:
                return True
            return not all(_matches(st, st.resources, p, False, variables, broad=False)
                           for p in PROBES)
        targets: Iterable[str] = resource.probes()
    else:
        targets = (resource,)
    broad = allow != st.not_resource
    return all(_matches(st, st.resources, t, False, variables, broad) != st.not_resource
               for t in targets)


# --- decisions -----------------------------------------------------------------------------


def decide(principal: Principal, action: str, resource: Resource) -> Outcome:
    """Whether the user may perform ``action`` on ``resource``, as far as its policies say."""
    variables = tuple(sorted(principal.variables().items()))
    boundary = () if principal.boundary is None else (principal.boundary,)
    for pol in (*principal.policies, *boundary):
        for st in pol.statements or ():
            if st.effect == "Deny" and _applies(st, action, resource, variables):
                return NO
    grant = _first_allow(principal.policies, action, resource, variables)
    if grant is None:
        unread = [p.name for p in principal.policies if p.statements is None]
        return Outcome(Answer.UNKNOWN, f"{unread[0]} could not be read") if unread else NO
    if principal.boundary is None:
        return Outcome(Answer.ALLOWED, grant)
    if principal.boundary.statements is None:
        return Outcome(Answer.UNKNOWN, f"{principal.boundary.name} could not be read")
    within = _first_allow(boundary, action, resource, variables)
    if within is None:
        return NO
    return Outcome(Answer.ALLOWED, f"{grant}; within {within}")


def _first_allow(policies: Sequence[Policy], action: str, resource: Resource,
                 variables: tuple[tuple[str, str], ...]) -> str | None:
    for pol in policies:
        for st in pol.statements or ():
            if st.effect == "Allow" and _applies(st, action, resource, variables):
                return st.label + (" (under a condition, counted)" if st.conditional else "")
    return None


def all_of(outcomes: Iterable[Outcome]) -> Outcome:
    found: list[Outcome] = []
    for o in outcomes:
        if o.answer is Answer.NO:
            return NO
        found.append(o)
    unknown = [o for o in found if o.answer is Answer.UNKNOWN]
    if unknown:
        return unknown[0]
    return found[0] if found else NO


def any_of(outcomes: Iterable[Outcome]) -> Outcome:
    unknown = None
    for o in outcomes:
        if o.answer is Answer.ALLOWED:
            return o
        if o.answer is Answer.UNKNOWN and unknown is None:
            unknown = o
    return unknown or NO
