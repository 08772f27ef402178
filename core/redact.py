"""Mask secrets before anything is written: raw API pages, results, evidence packs, logs.

Two nets: values under keys that name a secret (``client_secret``, ``Authorization``,
``SessionToken``...) are masked whatever they hold, and known secret values (the ones the run was
configured with) are masked wherever they appear, inside any string. ``leaks`` is the final
check the pack runs over every file it is about to publish.

A known secret is masked in every form it may come back in (:func:`secret_forms`): whole, and
each secret part of it alone, for a receiver that echoes only part of what it got: the
credential of an ``Authorization`` value (``Bearer <token>``, and the password of ``Basic``),
the password of a URL's user info, the path segments of a URL that look like tokens (Slack's
``/services/T…/B…/<secret>``, a Teams/Logic Apps ``/workflows/<id>/…``, Office connectors'
``/webhookb2/<guid>@<guid>/IncomingWebhook/<id>/<guid>``) and the values of its query
parameters that carry a secret (``sig`` — the SAS signature of a Logic Apps trigger URL —,
``code``, ``token``, ``key``...) or look like tokens; each of those also URL-encoded,
JSON-escaped (with and without ``\\/``) and HTML-escaped. Masking matches substrings, so it
must run before any truncation (:meth:`Redactor.excerpt`): a cut secret no longer matches.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import html
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from itertools import chain, compress
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

from clausewatch.core.evidence import CollectionError, Evidence

R = TypeVar("R", Evidence, CollectionError, Evidence | CollectionError)

MASK = "[REDACTED]"
#: Key names (compared lower-case, without ``-``/``_``) whose values are always masked.
SECRET_KEYS = frozenset(
    {
        "secret",
        "password",
        "passwd",
        "token",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "authorization",
        "proxyauthorization",
        "clientsecret",
        "accesskey",
        "secretaccesskey",
        "sessiontoken",
        "securitytoken",
        "privatekey",
        "privatekeyid",
        "apikey",
        "xapikey",
        "cookie",
        "setcookie",
        "sastoken",
        "connectionstring",
    }
)
#: Substrings that make any key secret (``db_password``, ``webhook_secret``...).
SECRET_PARTS = ("secret", "password", "passwd", "privatekey", "sessiontoken", "credential")
#: Endings that make a secret-looking key plain metadata (``passwordLastUsed``, ``AccessKeyId``).
METADATA_ENDINGS = (
    "id",
    "lastused",
    "lastchanged",
    "lastrotated",
    "nextrotation",
    "enabled",
    "active",
    "expires",
    "expiry",
    "expiration",
    "expiresat",
    "createdat",
    "type",
    "issuertype",
    "required",
    "policy",
    "set",
    "count",
)
MIN_SECRET_LEN = 4  # shorter "secrets" would mask half the pack and protect nothing
#: Query parameters whose value is a secret whatever it looks like (compared lower-case).
QUERY_SECRETS = frozenset(
    {"sig", "signature", "code", "token", "key", "apikey", "api_key", "access_token", "auth",
     "secret", "password", "pwd", "sas", "x-api-key", "client_secret", "refresh_token"}
)
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~+=:@!$%-]+")
_SCHEME_VALUE = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)\s+(\S+)")


def _norm(key: str) -> str:
    return re.sub(r"[-_\s]", "", key).lower()


@lru_cache(maxsize=16384)
def is_secret_key(key: str) -> bool:
    """True for keys such as ``client_secret``, ``Authorization``, ``SessionToken``. Memoised:
    a page of 50,000 rows repeats the same few dozen keys (a pure function of the key)."""
    k = _norm(key)
    if k in SECRET_KEYS:
        return True
    return any(p in k for p in SECRET_PARTS) and not k.endswith(METADATA_ENDINGS)


def looks_like_token(part: str) -> bool:
    """A URL component that may be a credential: 8+ URL-safe characters mixing letters and
    digits, or 20+ mixing upper and lower case (``T0123ABCD``, a GUID, a SAS signature; not
    ``services``, ``IncomingWebhook`` or ``2016-06-01``)."""
    if len(part) < 8 or not _TOKEN_CHARS.fullmatch(part):
        return False
    letters, digits = any(c.isalpha() for c in part), any(c.isdigit() for c in part)
    mixed = any(c.isupper() for c in part) and any(c.islower() for c in part)
    return (letters and digits) or (len(part) >= 20 and mixed)


def secret_parts(secret: str) -> Iterator[str]:
    """The secret itself and each secret part of it (see the module's docstring)."""
    yield secret
    match = _SCHEME_VALUE.fullmatch(secret.strip())
    if match:  # "Bearer <token>", "Basic <base64>", "SSWS <token>"
        yield match.group(2)
        if match.group(1).lower() == "basic":
            try:
                user_pass = base64.b64decode(match.group(2), validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                user_pass = ""
            if ":" in user_pass:
                yield user_pass
                yield user_pass.split(":", 1)[1]
    if "://" in secret:
        yield from _url_parts(secret)


def _url_parts(url: str) -> Iterator[str]:
    try:
        parts = urlsplit(url.strip())
        password = parts.password
    except ValueError:
        return
    if password:
        yield password
        yield unquote(password)
        if parts.username:
            yield f"{parts.username}:{password}"
    segments = [s for s in parts.path.split("/") if s]
    secret_segments = [s for s in segments if looks_like_token(unquote(s))]
    if secret_segments:
        yield parts.path
        if parts.query:
            yield f"{parts.path}?{parts.query}"
    for segment in secret_segments:
        yield segment
        yield unquote(segment)
        for piece in re.split(r"[@;,]", unquote(segment)):  # connectors: <guid>@<guid>
            if looks_like_token(piece):
                yield piece
    for query in (parts.query, parts.fragment):
        for name, value in parse_qsl(query, keep_blank_values=False):
            if name.lower() in QUERY_SECRETS or is_secret_key(name) or looks_like_token(value):
                yield value
                yield quote(value, safe="")
                yield f"{name}={value}"


def secret_forms(secret: str) -> set[str]:
    """Every string to mask for ``secret``: its parts, each as written, URL-encoded (upper and
    lower-case hex), JSON-escaped (non-ASCII as is or ``\\u`` escaped, ``/`` as is or ``\\/``)
    and HTML-escaped; forms shorter than ``MIN_SECRET_LEN`` are left out."""
    forms: set[str] = set()
    for part in secret_parts(secret):
        if len(part) < MIN_SECRET_LEN:
            continue
        encoded = {quote(part, safe=""), quote(part, safe="/"), quote_plus(part)}
        encoded |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), e) for e in encoded}
        for form in {part, *encoded}:
            escaped = {json.dumps(form)[1:-1], json.dumps(form, ensure_ascii=False)[1:-1]}
            forms |= {form, html.escape(form), *escaped, *(e.replace("/", "\\/") for e in escaped)}
    return {f for f in forms if len(f) >= MIN_SECRET_LEN}


class Redactor:
    """Masks secret keys and known secret values in JSON-like data and text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.known: list[str] = []  # the secret values as configured
        self.values: list[str] = []  # those and their JSON-escaped forms, longest first
        self._full: tuple[list[str], re.Pattern[str]] | None = None  # (values, alternation)
        self._heads: re.Pattern[str] | None = None  # the forms' first MIN_SECRET_LEN characters
        self._json_heads: list[str] = []  # those heads as JSON text writes them
        self._byte_heads: list[bytes] = []  # those heads as UTF-8 bytes
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Mask this value, and every form and part of it, from now on (collectors and channels
        register every credential they read)."""
        if not isinstance(secret, str) or len(secret) < MIN_SECRET_LEN or secret in self.known:
            return
        self.known.append(secret)
        # Longest first, so a secret containing another is masked whole.
        forms = set(self.values) | secret_forms(secret)
        self.values = sorted(forms, key=lambda v: (-len(v), v))  # the alternation: _pattern()
        heads = sorted({v[:MIN_SECRET_LEN] for v in self.values})
        self._heads = re.compile("|".join(re.escape(h) for h in heads))
        self._json_heads = sorted({json.dumps(h)[1:-1] for h in heads})
        self._byte_heads = [h.encode("utf-8") for h in heads]

    def __call__(self, value: Any) -> Any:
        """Same as ``data``: the ``RawRecorder`` calls its redactor on every page."""
        return self.data(value)

    def text(self, text: str) -> str:
        """``text`` with every known secret value masked.

        The alternation of every form is tried at every position of ``text`` (about 35 µs for
        a 30-character string with the credentials of 50 AWS accounts); a form can only occur
        where its first ``MIN_SECRET_LEN`` characters do, and far fewer of those (one per
        credential at most) are searched first, in a tenth of that: text holding none of them
        is returned as it is."""
        if self._heads is None or not self._heads.search(text):
            return text
        return self._pattern().sub(MASK, text)

    def _pattern(self) -> re.Pattern[str]:
        """The alternation of every form, longest first, compiled when first needed after the
        last ``add``: a service-account private key's forms take about 0.1 s to compile, paid
        again on every later ``add`` (each token a refresh brings) though most runs never
        find a head. Built from one reading of ``values``, so it always matches a whole set."""
        values, full = self.values, self._full
        if full is None or full[0] is not values:
            full = (values, re.compile("|".join(re.escape(v) for v in values)))
            self._full = full
        return full[1]

    def excerpt(self, text: str, limit: int = 200) -> str:
        """``text`` masked, *then* cut to ``limit`` characters (a cut secret would not match)."""
        clean = self.text(text)
        return clean if len(clean) <= limit else clean[: limit - 1] + "…"

    def leaves_json(self, text: str) -> bool:
        """True when ``data`` would leave unchanged the JSON data that ``text`` encodes, proved
        on the text (a raw page costs a search, not a walk of every value). ``text`` must be
        JSON as ``json.dumps`` writes it (ASCII, ``": `` after each key; line breaks and
        indents between tokens allowed) for data holding only dicts, lists, strings, numbers,
        booleans and null.

        The proof: no string holds the start of a known secret (escaping is character by
        character, so a string holding a head shows that head escaped), and no key is a
        secret key. With no escaped quote in the text, every quote delimits a string and
        every ``": `` ends one: the run back to the quote before it is a key, or (for a string
        that starts with ``: ``) harmless text checked as one; every key is read. Anything else
        answers False: ``data`` then decides."""
        # one substring search per head (in C): a fifth of the time of the heads' alternation
        # (``re`` tries every alternative at every position), whatever the number of heads
        if '\\"' in text or any(head in text for head in self._json_heads):
            return False
        pieces = text.split('": ')
        pieces.pop()  # what follows the last key
        keys = {piece[piece.rfind('"') + 1:] for piece in pieces}  # no quote: the whole piece
        try:
            return not any(is_secret_key(json.loads(f'"{k}"') if "\\" in k else k)
                           for k in keys)
        except ValueError:  # not a key as JSON writes one: not proved
            return False

    def leaves_received(self, body: bytes, value: Any) -> bool:
        """True when ``data`` would leave ``value`` unchanged, ``value`` being ``body`` (JSON
        as an API sent it, any spacing or order) parsed: proved on the bytes and on the keys,
        without a copy of every value (a page saved as received, ``RawRecorder.save``).

        The proof: ``body`` holds no backslash, so no string in it is escaped and each string
        of ``value`` is its UTF-8 bytes in ``body`` (UTF-8 keeps substrings); a string holding
        a known secret's form holds that form's first ``MIN_SECRET_LEN`` characters (the heads
        ``text`` searches), so no head in ``body`` means no string to mask. Every key of every
        object of ``value`` is read: none may be a secret key. A body with a backslash, or a
        value holding anything but dicts, lists, strings, numbers, booleans and null, answers
        False: ``data`` then decides."""
        if b"\\" in body:
            return False
        if any(_holds(body, head) for head in self._byte_heads):  # substring searches, in C
            return False
        keys = _json_keys(value)
        return keys is not None and not any(is_secret_key(str(k)) for k in keys)

    def data(self, value: Any) -> Any:
        """A copy of JSON-like ``value`` with secret keys and known secret values masked."""
        kind = type(value)  # exact JSON types first: the ABC checks below are slow per item
        if kind is str:
            return self.text(value)
        if kind is int or kind is float or kind is bool or value is None:
            return value
        if kind is dict:
            return {k: (MASK if is_secret_key(str(k)) and _has_value(v) else self.data(v))
                    for k, v in value.items()}
        if kind is list:
            return [self.data(v) for v in value]
        if isinstance(value, Mapping):
            return {
                k: (MASK if is_secret_key(str(k)) and _has_value(v) else self.data(v))
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def strings(self, value: Any) -> Any:
        """A copy of JSON-like ``value`` with known secret values masked (keys left alone:
        for evidence facts, whose keys are the checks' vocabulary)."""
        if isinstance(value, Mapping):
            return {k: self.strings(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.strings(v) for v in value]
        return self.text(value) if isinstance(value, str) else value

    def records(self, records: Sequence[R]) -> list[R]:
        """Evidence records and collection errors with known secret values masked (an API
        error that echoes a credential is data; the credential must not become evidence)."""
        out: list[R] = []
        for r in records:
            if isinstance(r, CollectionError):
                r = dataclasses.replace(r, message=self.text(r.message),
                                        details=self.strings(dict(r.details)))
            elif isinstance(r, Evidence):
                facts = self.strings(dict(r.facts))
                if facts != r.facts:
                    r = dataclasses.replace(r, facts=facts)
            out.append(r)
        return out

    def json_text(self, text: str) -> str:
        """A JSON document's text, redacted (keys and values); non-JSON text: values only.

        A document with nothing to mask comes back byte for byte, so digests taken of it
        earlier (an evidence record's ``raw_ref``) still hold.
        """
        try:
            doc = json.loads(text)
        except ValueError:
            return self.text(text)
        clean = self.data(doc)
        if clean == doc:
            return text
        return json.dumps(clean, indent=1, ensure_ascii=False, sort_keys=True) + "\n"

    def leaks(self, blob: bytes) -> list[str]:
        """The known secret values (in any of their forms) found in ``blob``, masked for
        display."""
        return [_hint(v) for v in self.values if v.encode("utf-8") in blob]

    def leaks_in(self, chunks: Iterable[bytes]) -> list[str]:
        """``leaks`` over a stream of chunks (a file read a block at a time; see ``LeakScan``).
        The stream is read to its end even when there is nothing to find (it may raise)."""
        scan = self.scan()
        for chunk in chunks:
            scan.feed(chunk)
        return scan.found()

    def scan(self) -> LeakScan:
        """A scan of bytes fed as they are written (``LeakScan``), for this redactor's values."""
        return LeakScan(self.values)


class LeakScan:
    """The known secret values found in a stream of bytes fed a chunk at a time, as they are
    written: each chunk is searched with the last ``longest form - 1`` bytes of the ones before
    it, so a secret split across two writes is found as it would be in the whole."""

    def __init__(self, values: Sequence[str]) -> None:
        self._values = list(values)
        self._forms = [(v, v.encode("utf-8")) for v in values]
        self._keep = max((len(b) for _, b in self._forms), default=1) - 1
        self._found: set[str] = set()
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        if not self._forms or not chunk:
            return
        window = self._tail + chunk if self._tail else chunk
        self._found.update(v for v, b in self._forms if v not in self._found and b in window)
        self._tail = window[-self._keep:] if self._keep else b""

    def found(self) -> list[str]:
        """What was found so far, masked for display, longest form first."""
        return [_hint(v) for v in self._values if v in self._found]


class ScrubFilter(logging.Filter):
    """A logging filter masking a redactor's secrets in every record it sees (message, and
    the text of an exception or stack)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redactor.text(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for attr in ("exc_text", "stack_info"):
            value = getattr(record, attr, None)
            if value:
                setattr(record, attr, self.redactor.text(value))
        return True


_SCALARS = frozenset({str, int, float, bool, type(None)})
_JSON_TYPES = _SCALARS | {dict, list}
_IS_DICT = frozenset({dict}).__contains__
_IS_LIST = frozenset({list}).__contains__
_IS_CONTAINER = frozenset({dict, list}).__contains__


#: Items of a level ``_json_keys`` reads in one go, bytes ``_holds`` searches in one go: each
#: C call then holds the interpreter lock a few milliseconds, not the 100 ms a 100 MB page
#: takes whole (a thread waiting on the network, MSRC beside the Defender export, gets it
#: back between two).
_CHUNK = 4096
_WINDOW = 1 << 22


def _holds(body: bytes, head: bytes) -> bool:
    """``head in body``, searched in windows of ``_WINDOW`` bytes that overlap by
    ``len(head) - 1`` (an occurrence across two windows is inside the first one's end)."""
    reach = _WINDOW + len(head) - 1
    return any(body.find(head, start, start + reach) != -1
               for start in range(0, max(len(body), 1), _WINDOW))


def _json_keys(value: Any) -> set[Any] | None:
    """Every key of every object in ``value``, however deep; None when ``value`` holds anything
    but exact JSON types (dict, list, str, int, float, bool, None). Read a level at a time in C
    (``map``, ``compress``, ``chain``), ``_CHUNK`` items of it a step: a page of 100,000 rows
    costs no Python step per row."""
    keys: set[Any] = set()
    level = [value]
    while level:
        below: list[Any] = []
        for start in range(0, len(level), _CHUNK):
            part = level[start:start + _CHUNK]
            kinds = list(map(type, part))
            if not set(kinds) <= _JSON_TYPES:
                return None
            dicts = list(compress(part, map(_IS_DICT, kinds)))
            keys.update(chain.from_iterable(dicts))
            members = [*chain.from_iterable(map(dict.values, dicts)),
                       *chain.from_iterable(compress(part, map(_IS_LIST, kinds)))]
            member_kinds = list(map(type, members))
            if not set(member_kinds) <= _JSON_TYPES:
                return None
            below.extend(compress(members, map(_IS_CONTAINER, member_kinds)))
        level = below
    return keys


def _has_value(value: Any) -> bool:
    """Booleans and numbers under a secret-looking key are flags, not secrets."""
    return bool(value) and not isinstance(value, bool | int | float)


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """Shorthand: ``Redactor(secrets).data(value)``."""
    return Redactor(secrets).data(value)


def _hint(secret: str) -> str:
    return f"{secret[:2]}…({len(secret)} chars)"
