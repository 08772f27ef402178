"""The one canonical form in which subjects are compared (``docs/evidence.md``, "Subjects").

A subject is the stable id of what evidence is about. Every join of records to a subject
(a patch to its asset, a backup to its resource) and every de-duplication of inventory goes
through :func:`subject_key`:

* The text is put in Unicode NFC first (the same name typed on two systems may be composed
  differently).
* An id without ``/`` or ``:`` — a host name, a UPN or e-mail address, a GUID, a bare cloud id
  such as ``i-0abc...`` — compares case-insensitively (Unicode case folding): DNS names are
  case-insensitive (RFC 4343), so are Entra user principal names and Google Workspace
  addresses as their directories match them, GUIDs are hexadecimal (RFC 9562 §4: case-
  insensitive on input) and AWS writes its resource ids in lower case.
* An id with ``/`` or ``:`` — an ARN, a URL, a resource path — compares exactly: the resource
  part of an ARN may be a case-sensitive name (DynamoDB tables ``Orders`` and ``orders`` are
  two tables; https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html), as may a
  path. Records naming such an id that differs only in case from a known subject are not
  joined to it; the check that reads them reports the difference (see :func:`case_key`).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=1 << 16)
def subject_key(subject: str) -> str:
    """The canonical form of a subject, in which two ids are the same subject."""
    text = unicodedata.normalize("NFC", subject)
    if "/" in text or ":" in text:
        return text
    return text.casefold()


@lru_cache(maxsize=1 << 16)
def case_key(subject: str) -> str:
    """The subject with case folded whatever its form: two ids with equal ``case_key`` but
    different ``subject_key`` differ only in the case of a case-sensitive id."""
    return unicodedata.normalize("NFC", subject).casefold()
