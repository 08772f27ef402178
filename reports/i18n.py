"""The catalogue of words the human-readable reports print, in English and French.

Every label a template or a Markdown writer shows comes from here (``Catalogue.t``), so a new
language is one more dict. Numbers and dates are formatted here too, the way each language
writes them (``87,5 %`` and ``22 novembre 2026`` in French).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

LANGUAGES = ("en", "fr")
DEFAULT = "en"

MESSAGES: Mapping[str, Mapping[str, str]] = {
    "en": {
        "report_title": "Contract compliance report",
        "period_report_title": "Period compliance report",
        "contract": "Contract",
        "provider": "Provider",
        "customer": "Customer",
        "effective": "In force",
        "effective_range": "from {start} to {end}",
        "effective_open": "from {start}",
        "as_of": "Situation as of",
        "generated": "Generated",
        "run_id": "Run",
        "tool": "Tool",
        "contract_digest": "Contract SHA-256",
        "evidence_records": "Evidence records",
        "overall": "Overall status",
        "partial_run": "Partial run: some evidence could not be collected "
        "(see “Missing evidence”).",
        "summary": "Commitments at a glance",
        "clause": "Clause",
        "commitment": "Commitment",
        "responsible": "Responsible",
        "status": "Status",
        "measured": "Measured",
        "target": "Target",
        "subjects": "Subjects",
        "due": "Due",
        "reason": "Reason",
        "subject": "Subject",
        "chart_status": "Subjects per clause, by status",
        "chart_status_note": "Each bar is the clause's subjects in scope (waived ones excluded); "
        "the black tick marks the target.",
        "chart_patch": "Age of outstanding security updates against the deadline",
        "chart_patch_note": "Days since {clock}; updates right of the dashed line are past "
        "their deadline.",
        "clock_release": "vendor release",
        "clock_detection": "first detection",
        "deadline_days": "deadline {days} d",
        "days": "days",
        "updates": "updates",
        "no_outstanding": "No outstanding update.",
        "details": "Clause by clause",
        "offenders": "Subjects needing attention",
        "no_offenders": "Every subject in scope complies.",
        "more_offenders": "… and {n} more (see results.csv).",
        "verdict_reason": "Verdict:",
        "waivers": "Waivers",
        "waivers_none": "No waiver is declared in the contract.",
        "waiver_subjects": "Subjects",
        "waiver_reason": "Reason",
        "waiver_approver": "Approved by",
        "waiver_expires": "Expires",
        "waiver_reference": "Reference",
        "waiver_state": "State",
        "waiver_applied": "Applied to",
        "waiver_in_force": "in force",
        "waiver_expiring": "in force, expires in {days} d",
        "waiver_expired": "expired",
        "waiver_not_yet": "not yet in force",
        "missing": "Missing evidence",
        "missing_none": "Every collector reported in full.",
        "missing_intro": "Where a collector could not look, the subjects it should have informed "
        "are reported as “no evidence”, never as compliant.",
        "error_source": "Source",
        "error_origin": "Where",
        "error_operation": "Operation",
        "error_message": "Error",
        "error_when": "When",
        "error_affects": "Affects",
        "no_evidence_subjects": "{n} subject(s) without usable evidence",
        "footer": "Produced by ClauseWatch {version}. Verdicts trace back to the evidence "
        "records listed in results.json; the evidence pack can be checked with "
        "clausewatch verify.",
        "na": "n/a",
        "party_provider": "Provider",
        "party_customer": "Customer",
        "party_shared": "Shared",
        "status_compliant": "Compliant",
        "status_at_risk": "At risk",
        "status_breached": "Breached",
        "status_waived": "Waived",
        "status_no_evidence": "No evidence",
        "counts_line": "{ok} of {n} compliant",
        "colon": ":",
    },
    "fr": {
        "report_title": "Rapport de conformité contractuelle",
        "period_report_title": "Rapport de conformité de la période",
        "contract": "Contrat",
        "provider": "Prestataire",
        "customer": "Client",
        "effective": "En vigueur",
        "effective_range": "du {start} au {end}",
        "effective_open": "depuis le {start}",
        "as_of": "Situation au",
        "generated": "Produit le",
        "run_id": "Exécution",
        "tool": "Outil",
        "contract_digest": "SHA-256 du contrat",
        "evidence_records": "Preuves collectées",
        "overall": "État global",
        "partial_run": "Exécution partielle : certaines preuves n'ont pas pu être collectées "
        "(voir « Preuves manquantes »).",
        "summary": "Les engagements en un coup d'œil",
        "clause": "Clause",
        "commitment": "Engagement",
        "responsible": "Responsable",
        "status": "État",
        "measured": "Mesuré",
        "target": "Cible",
        "subjects": "Éléments",
        "due": "Échéance",
        "reason": "Motif",
        "subject": "Élément",
        "chart_status": "Éléments par clause, selon leur état",
        "chart_status_note": "Chaque barre représente les éléments du périmètre de la clause "
        "(hors dérogations) ; le trait noir marque la cible.",
        "chart_patch": "Ancienneté des correctifs de sécurité en attente, face au délai",
        "chart_patch_note": "Jours depuis la {clock} ; à droite du pointillé, le délai est "
        "dépassé.",
        "clock_release": "publication par l'éditeur",
        "clock_detection": "première détection",
        "deadline_days": "délai {days} j",
        "days": "jours",
        "updates": "correctifs",
        "no_outstanding": "Aucun correctif en attente.",
        "details": "Clause par clause",
        "offenders": "Éléments à traiter",
        "no_offenders": "Tous les éléments du périmètre sont conformes.",
        "more_offenders": "… et {n} de plus (voir results.csv).",
        "verdict_reason": "Verdict\u00a0:",
        "waivers": "Dérogations",
        "waivers_none": "Aucune dérogation n'est déclarée dans le contrat.",
        "waiver_subjects": "Éléments",
        "waiver_reason": "Motif",
        "waiver_approver": "Approuvée par",
        "waiver_expires": "Échéance",
        "waiver_reference": "Référence",
        "waiver_state": "État",
        "waiver_applied": "Appliquée à",
        "waiver_in_force": "en vigueur",
        "waiver_expiring": "en vigueur, expire dans {days} j",
        "waiver_expired": "expirée",
        "waiver_not_yet": "pas encore en vigueur",
        "missing": "Preuves manquantes",
        "missing_none": "Tous les collecteurs ont rendu compte en totalité.",
        "missing_intro": "Là où un collecteur n'a pas pu regarder, les éléments concernés sont "
        "déclarés « sans preuve », jamais conformes.",
        "error_source": "Source",
        "error_origin": "Périmètre",
        "error_operation": "Opération",
        "error_message": "Erreur",
        "error_when": "Quand",
        "error_affects": "Clauses touchées",
        "no_evidence_subjects": "{n} élément(s) sans preuve exploitable",
        "footer": "Produit par ClauseWatch {version}. Chaque verdict renvoie aux preuves "
        "listées dans results.json ; le paquet de preuves se vérifie avec "
        "clausewatch verify.",
        "na": "s. o.",
        "party_provider": "Prestataire",
        "party_customer": "Client",
        "party_shared": "Partagé",
        "status_compliant": "Conforme",
        "status_at_risk": "À risque",
        "status_breached": "Non conforme",
        "status_waived": "Dérogation",
        "status_no_evidence": "Sans preuve",
        "counts_line": "{ok} conformes sur {n}",
        "colon": "\u00a0:",
    },
}

_MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)  # fmt: skip


def pick_language(requested: str | None, contract_language: str | None) -> str:
    """``--lang`` if given, else the contract's language when known, else English."""
    for candidate in (requested, contract_language):
        if candidate:
            lang = candidate.lower().split("-")[0].split("_")[0]
            if lang in MESSAGES:
                return lang
            if candidate is requested:
                raise ValueError(f"unknown language {requested!r} (known: {', '.join(LANGUAGES)})")
    return DEFAULT


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Words and formats for one language."""

    lang: str

    def t(self, key: str, **values: object) -> str:
        text = MESSAGES[self.lang].get(key) or MESSAGES[DEFAULT][key]
        return text.format(**values) if values else text

    def status(self, status: str) -> str:
        return self.t(f"status_{status}")

    def party(self, party: str) -> str:
        return self.t(f"party_{party}")

    def percent(self, value: float | None, digits: int = 1) -> str:
        if value is None:
            return self.t("na")
        text = f"{value * 100:.{digits}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        if self.lang == "fr":
            return text.replace(".", ",") + "\u00a0%"
        return text + "%"

    def number(self, value: float) -> str:
        text = f"{value:g}"
        return text.replace(".", ",") if self.lang == "fr" else text

    def day(self, value: date | datetime | None, tz: ZoneInfo | None = None) -> str:
        """A calendar day for people; datetimes are shown in ``tz`` (the contract's zone)."""
        if value is None:
            return ""
        if isinstance(value, datetime) and tz is not None:
            value = value.astimezone(tz)
        d = value.date() if isinstance(value, datetime) else value
        if self.lang == "fr":
            first = "1er" if d.day == 1 else str(d.day)
            return f"{first} {_MONTHS_FR[d.month - 1]} {d.year}"
        return d.strftime("%d %b %Y").lstrip("0")

    def moment(self, value: datetime | None, tz: ZoneInfo | None = None) -> str:
        """A date and time for people, with the zone's offset."""
        if value is None:
            return ""
        if tz is not None:
            value = value.astimezone(tz)
        clock = value.strftime("%H:%M")
        offset = value.strftime("%z")
        offset = "UTC" if offset in ("+0000", "") else f"UTC{offset[:3]}:{offset[3:]}"
        sep = " à " if self.lang == "fr" else ", "
        return f"{self.day(value)}{sep}{clock} ({offset})"
