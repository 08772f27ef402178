"""Words, plurals, numbers, money and dates for people, in the reader's language (gettext + Babel).

Texts are gettext messages: their English ids are declared in ``core/messages.py`` (extracted by
Babel with ``babel.cfg``), the translations are ``core/locales/<lang>/LC_MESSAGES/clausewatch.po``
compiled to ``.mo`` beside it (``Catalogue`` reads the ``.mo``; tests check it matches the
``.po``). Plurals follow each language's rule (French: 0 and 1 singular). Numbers, percentages,
amounts and dates are formatted by Babel from CLDR data (``87,5 %``, ``4 650 €``, ``1er
novembre 2026``, with the no-break spaces French requires).

A reason (``Result.reason_id`` + ``reason_params``) is rendered from its message id; a nested
parameter ``{"id", "params", "text"}`` is a message of its own, a list is joined, an ISO date is
shown as a day. English reports keep the check's own sentence (``Result.reason``).
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import NullTranslations, Translations

from clausewatch.core.messages import MESSAGES, PLURALS

LANGUAGES = ("en", "fr")
DEFAULT = "en"
DOMAIN = "clausewatch"
LOCALES = Path(__file__).parent / "locales"
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


class HasReason(Protocol):
    """A result or an alert event: the English sentence and, when known, its message id."""

    @property
    def reason(self) -> str: ...
    @property
    def reason_id(self) -> str: ...
    @property
    def reason_params(self) -> Mapping[str, Any]: ...


def pick_language(requested: str | None, contract_language: str | None) -> str:
    """``--lang`` if given, else the contract's language when known, else English."""
    for candidate in (requested, contract_language):
        if candidate:
            lang = candidate.lower().split("-")[0].split("_")[0]
            if lang in LANGUAGES:
                return lang
            if candidate is requested:
                raise ValueError(f"unknown language {requested!r} (known: {', '.join(LANGUAGES)})")
    return DEFAULT


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of ``lang`` (English: the message ids themselves)."""
    if lang == DEFAULT:
        return NullTranslations()
    found = Translations.load(str(LOCALES), [lang], DOMAIN)
    if not isinstance(found, Translations):
        raise FileNotFoundError(f"no compiled catalogue for {lang!r} in {LOCALES}")
    return found


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Words and formats for one language."""

    lang: str

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.lang)

    @property
    def gettext(self) -> gettext.NullTranslations:
        return translations(self.lang)

    def t(self, key: str, **values: object) -> str:
        """The text of ``key`` (``core/messages.py``), its placeholders filled in."""
        if key in PLURALS:
            return self.count(key, int(values.pop("n")), **values)  # type: ignore[call-overload]
        text = self.gettext.gettext(MESSAGES[key])
        return text.format(**values) if values else text

    def count(self, key: str, n: int, **values: object) -> str:
        """The plural form of ``key`` for ``n`` (``n`` is shown formatted)."""
        one, other = PLURALS[key]
        text = self.gettext.ngettext(one, other, n)
        return text.format(n=self.integer(n), **values)

    def has(self, key: str) -> bool:
        return key in MESSAGES or key in PLURALS

    def status(self, status: str) -> str:
        return self.t(f"status_{status}")

    def party(self, party: str) -> str:
        return self.t(f"party_{party}")

    def severity(self, severity: str) -> str:
        key = f"severity.{severity.lower()}"
        return self.t(key) if key in MESSAGES else severity

    # ---- numbers ------------------------------------------------------------------------------

    def integer(self, value: int) -> str:
        return format_decimal(value, format="#,##0", locale=self.lang)

    def percent(self, value: float | None, digits: int = 1) -> str:
        """``87.5%``, ``87,5 %``: the locale's percent pattern, at most ``digits`` decimals."""
        if value is None:
            return self.t("na")
        return format_percent(round(value, digits + 2), locale=self.lang,
                              decimal_quantization=False)

    def number(self, value: float) -> str:
        """A number as short as it goes (``7``, ``2.5``; ``2,5`` in French)."""
        return format_decimal(value, format="#,##0.###", locale=self.lang)

    def decimal(self, value: float, digits: int = 1) -> str:
        """A number with a fixed count of decimals (``22.0``, ``22,0`` in French)."""
        return format_decimal(value, format="#,##0." + "0" * digits, locale=self.lang)

    def duration(self, days: float | None) -> str:
        """A span in days with one decimal (``22.0 d``, ``22,0 j``)."""
        if days is None:
            return self.t("na")
        return f"{self.decimal(days)}\u00a0{self.t('unit_day')}"

    def days(self, days: float) -> str:
        """Whole days for people: ``1 day``, ``0 jour``, ``12 jours``."""
        return self.count("duration_days", int(days))

    def money(self, amount: float, currency: str) -> str:
        """A whole amount in the locale's currency pattern (``€4,650``; ``4 650 €``)."""
        pattern = self.locale.currency_formats["standard"].pattern.replace(".00", "")
        return format_currency(round(amount), currency, format=pattern, locale=self.lang,
                               currency_digits=False)

    # ---- dates --------------------------------------------------------------------------------

    def period(self, kind: str, year: int, index: int) -> str:
        """A contract period for people: ``October 2026``, ``octobre 2026``, ``Q4 2026``."""
        if kind == "quarter":
            return f"{self.t('quarter', n=index)} {year}"
        return format_date(date(year, index, 1), "LLLL y", locale=self.lang)

    def day(self, value: date | datetime | None, tz: ZoneInfo | None = None) -> str:
        """A calendar day for people; datetimes are shown in ``tz`` (the contract's zone)."""
        if value is None:
            return ""
        if isinstance(value, datetime) and tz is not None:
            value = value.astimezone(tz)
        d = value.date() if isinstance(value, datetime) else value
        if self.lang == "fr":
            text = format_date(d, "d MMMM y", locale="fr")
            return "1er" + text[1:] if d.day == 1 else text
        return format_date(d, "d MMM y", locale=self.lang)

    def moment(self, value: datetime | None, tz: ZoneInfo | None = None) -> str:
        """A date and time for people, with the zone's offset."""
        if value is None:
            return ""
        if tz is not None:
            value = value.astimezone(tz)
        clock = format_time(value, "HH:mm", locale=self.lang)
        offset = value.strftime("%z")
        offset = "UTC" if offset in ("+0000", "") else f"UTC{offset[:3]}:{offset[3:]}"
        sep = " à " if self.lang == "fr" else ", "
        return f"{self.day(value)}{sep}{clock} ({offset})"

    # ---- reasons ------------------------------------------------------------------------------

    def reason(self, item: HasReason, tz: ZoneInfo | None = None) -> str:
        """A result's or an event's reason in this language; the English sentence when the
        catalogue is English or the message id is unknown."""
        if self.lang == DEFAULT or not item.reason_id or not self.has(item.reason_id):
            return item.reason
        try:
            return self.message(item.reason_id, item.reason_params, tz)
        except (KeyError, ValueError, IndexError):
            return item.reason

    def message(self, key: str, params: Mapping[str, Any], tz: ZoneInfo | None = None) -> str:
        """A message with its parameters formatted for this language (see the module doc)."""
        values = {k: self._param(v, tz) for k, v in params.items() if k != "n"}
        if key in PLURALS:
            return self.count(key, int(params.get("n", 0)), **values)
        return self.t(key, **values)

    def _param(self, value: Any, tz: ZoneInfo | None) -> str:
        if isinstance(value, Mapping) and "id" in value:
            if self.has(str(value["id"])):
                return self.message(str(value["id"]), value.get("params") or {}, tz)
            return str(value.get("text", value["id"]))
        if isinstance(value, list | tuple):
            parts = [self._param(v, tz) for v in value]
            nested = any(isinstance(v, Mapping) for v in value)
            return (";\u00a0" if nested and self.lang == "fr" else "; " if nested else ", ").join(
                parts)
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int):
            return self.integer(value)
        if isinstance(value, float):
            return self.decimal(value)
        if isinstance(value, str) and _ISO_DAY.match(value):
            return self.day(date.fromisoformat(value))
        if isinstance(value, str) and _ISO_MOMENT.match(value):
            try:
                return self.day(datetime.fromisoformat(value.replace("Z", "+00:00")), tz)
            except ValueError:
                return value
        return "" if value is None else str(value)
