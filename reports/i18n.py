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
        "portfolio_title": "Portfolio compliance",
        "portfolio_contracts": "{n} contracts, {rows} clauses",
        "portfolio_customer": "Customer",
        "portfolio_now": "Now",
        "portfolio_attainment": "Nights in compliance",
        "portfolio_not_measured": "{n} not measured",
        "portfolio_open": "Open breaches",
        "portfolio_oldest": "oldest {age}",
        "portfolio_exposure": "Penalty exposure",
        "portfolio_cap": "cap {cap}",
        "portfolio_trend": "Trend",
        "portfolio_empty": "No contract of the store matches.",
        "portfolio_not_in_run": "not in the latest run",
        "portfolio_total_exposure": "Exposure this period",
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
        "attested": "attested",
        "attested_head": "Resting on an attestation (a person's signed report, not a tool):",
        "more_offenders": "… and {n} more (see results.csv).",
        "verdict_reason": "Verdict:",
        # the verdict sentence (reports/verdict_text.py), from the verdict's figures
        "n_subjects_one": "{n} subject",
        "n_subjects_other": "{n} subjects",
        "verdict_share": "{measured} compliant across {counted}, against a target of {target}",
        "verdict_compliant": "{share}.",
        "verdict_compliant_unknown_one": "{share}; the subject without evidence cannot change it.",
        "verdict_compliant_unknown_other": "{share}; the {n} subjects without evidence cannot "
        "change it.",
        "verdict_breached_one": "{share}: {n} subject breached.",
        "verdict_breached_other": "{share}: {n} subjects breached.",
        "verdict_undecided_one": "{share}: undecided, {n} subject without usable evidence.",
        "verdict_undecided_other": "{share}: undecided, {n} subjects without usable evidence.",
        "verdict_at_risk_one": "{share}: {n} subject falls due on {due}.",
        "verdict_at_risk_other": "{share}: {n} subjects fall due, the first on {due}.",
        "verdict_waived_one": "The only subject in scope is waived.",
        "verdict_waived_other": "All {n} subjects in scope are waived.",
        "verdict_nothing": "No subject in scope had usable evidence.",
        "verdict_nothing_errors_one": "No subject in scope had usable evidence; {n} collection "
        "error bears on this commitment.",
        "verdict_nothing_errors_other": "No subject in scope had usable evidence; {n} collection "
        "errors bear on this commitment.",
        "measured_note": "Measured = (compliant + at risk) ÷ subjects counted: at-risk subjects "
        "still comply today; waived subjects are left out of the count; subjects without "
        "evidence count as not compliant.",
        "show_more_offenders_one": "Show {n} more subject",
        "show_more_offenders_other": "Show {n} more subjects",
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
        # the period report (reports/period.py, templates/period.*.j2)
        "period_parties": "{provider} for {customer}",
        "period_exposure": "Penalty exposure",
        "period_no_penalty": "no penalty clause",
        "period_range": "{start} to {end} ({tz})",
        "period_nights_label": "Nightly runs in the period",
        "period_nights_count": "{nights} nights ({runs} runs)",
        "period_latest": "Latest run in the history",
        "period_latest_none": "none",
        "period_no_run": "No run was recorded in this period: nothing can be attained without "
        "evidence.",
        "period_attainment": "Attainment per commitment",
        "period_col_nights": "Nights in compliance",
        "period_col_no_evidence": "Nights without evidence",
        "period_col_subject_days": "Subject-days in compliance",
        "period_col_breaches": "Breaches (days)",
        "period_col_findings": "Findings cured",
        "period_col_cure": "Time to cure mean / p90",
        "period_p90": "p90 {value}",
        "period_col_penalty": "Penalty",
        "period_nights_no_evidence": "{n} without evidence",
        "period_breaches_began": "{n} began",
        "period_cured_late": "{n} late",
        "period_cured_in_time": "{n} in time",
        "period_findings_breached": "{n} breached",
        "period_findings_md": "Findings cured late / in time",
        "period_capped": "capped from {amount}",
        "period_strip": "Verdict night by night",
        "period_no_run_legend": "no run",
        "period_lines": "Share of subjects in compliance, night by night",
        "period_last": "last {value}",
        "period_lines_note": "Dashed red line: the commitment's target. Dots are coloured by "
        "the night's verdict.",
        "period_trend": "Trend: nights in compliance over the last {n} periods",
        "period_trend_md": "Trend: nights in compliance",
        "period_trend_aria": "{clause}: trend",
        "period_method": "How these figures are computed",
        "period_method_nights": "A night is the last run of a calendar day in {tz}. A night is in "
        "compliance when the commitment's verdict was compliant, at risk or waived; a night "
        "without evidence never is.",
        "period_method_subjects": "Subject-days count every subject judged each night (waived "
        "subjects excepted); those without evidence count against compliance.",
        "period_method_breaches": "Breaches are episodes of the commitment's own verdict "
        "breached; their days are clipped to the period. Time to cure runs from a finding's "
        "deadline (or first breached night) to the night it was seen compliant; p90 is the "
        "nearest-rank 90th percentile.",
        "period_method_penalty": "Penalty exposure: the per-breach amount for each breach that "
        "began in the period plus the per-day amount for each night the verdict was breached, "
        "capped per month or quarter as each penalty clause says (a quarterly cap counts what "
        "earlier months of the quarter used). Nights without evidence cost nothing.",
        "period_footer": "Generated {when} by ClauseWatch {version} from the run history. "
        "Figures come from recorded runs; nothing is re-evaluated.",
        "period_footer_md": "Generated {when} by ClauseWatch {version} from the run history; "
        "nothing is re-evaluated.",
        "unit_day": "d",
        "quarter": "Q{n}",
    },
    "fr": {
        "portfolio_title": "Conformité du portefeuille",
        "portfolio_contracts": "{n} contrats, {rows} clauses",
        "portfolio_customer": "Client",
        "portfolio_now": "Aujourd’hui",
        "portfolio_attainment": "Nuits conformes",
        "portfolio_not_measured": "{n} non mesurées",
        "portfolio_open": "Manquements ouverts",
        "portfolio_oldest": "le plus ancien {age}",
        "portfolio_exposure": "Pénalités encourues",
        "portfolio_cap": "plafond {cap}",
        "portfolio_trend": "Tendance",
        "portfolio_empty": "Aucun contrat du registre ne correspond.",
        "portfolio_not_in_run": "absente du dernier contrôle",
        "portfolio_total_exposure": "Pénalités de la période",
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
        "attested": "attesté",
        "attested_head": "Fondé sur une attestation (rapport signé d'une personne, non d'un "
        "outil)\u00a0:",
        "more_offenders": "… et {n} de plus (voir results.csv).",
        "verdict_reason": "Verdict\u00a0:",
        "n_subjects_one": "{n} élément",
        "n_subjects_other": "{n} éléments",
        "verdict_share": "{measured} de conformité sur {counted}, pour une cible de {target}",
        "verdict_compliant": "{share}.",
        "verdict_compliant_unknown_one": "{share}\u00a0; l'élément sans preuve ne peut pas "
        "changer ce verdict.",
        "verdict_compliant_unknown_other": "{share}\u00a0; les {n} éléments sans preuve ne "
        "peuvent pas changer ce verdict.",
        "verdict_breached_one": "{share}\u00a0: {n} élément non conforme.",
        "verdict_breached_other": "{share}\u00a0: {n} éléments non conformes.",
        "verdict_undecided_one": "{share}\u00a0: impossible de trancher, {n} élément sans "
        "preuve exploitable.",
        "verdict_undecided_other": "{share}\u00a0: impossible de trancher, {n} éléments sans "
        "preuve exploitable.",
        "verdict_at_risk_one": "{share}\u00a0: {n} élément arrive à échéance le {due}.",
        "verdict_at_risk_other": "{share}\u00a0: {n} éléments arrivent à échéance, le premier "
        "le {due}.",
        "verdict_waived_one": "L'unique élément du périmètre est sous dérogation.",
        "verdict_waived_other": "Les {n} éléments du périmètre sont sous dérogation.",
        "verdict_nothing": "Aucun élément du périmètre n'a de preuve exploitable.",
        "verdict_nothing_errors_one": "Aucun élément du périmètre n'a de preuve exploitable\u00a0;"
        " {n} erreur de collecte touche cet engagement.",
        "verdict_nothing_errors_other": "Aucun élément du périmètre n'a de preuve "
        "exploitable\u00a0; {n} erreurs de collecte touchent cet engagement.",
        "measured_note": "Mesuré = (conformes + à risque) ÷ éléments comptés\u00a0: les éléments "
        "à risque sont encore conformes aujourd'hui\u00a0; les éléments sous dérogation sont "
        "exclus du compte\u00a0; ceux sans preuve comptent comme non conformes.",
        "show_more_offenders_one": "Afficher {n} autre élément",
        "show_more_offenders_other": "Afficher les {n} autres éléments",
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
        "period_parties": "{provider} pour {customer}",
        "period_exposure": "Pénalités encourues",
        "period_no_penalty": "aucune clause de pénalité",
        "period_range": "du {start} au {end} ({tz})",
        "period_nights_label": "Exécutions nocturnes de la période",
        "period_nights_count": "{nights} nuits ({runs} exécutions)",
        "period_latest": "Dernière exécution de l'historique",
        "period_latest_none": "aucune",
        "period_no_run": "Aucune exécution n'a été enregistrée sur la période : sans preuve, "
        "aucun engagement ne peut être tenu.",
        "period_attainment": "Tenue des engagements",
        "period_col_nights": "Nuits conformes",
        "period_col_no_evidence": "Nuits sans preuve",
        "period_col_subject_days": "Éléments-jours conformes",
        "period_col_breaches": "Manquements (jours)",
        "period_col_findings": "Constats corrigés",
        "period_col_cure": "Délai de correction moyen / p90",
        "period_p90": "p90\u00a0: {value}",
        "period_col_penalty": "Pénalité",
        "period_nights_no_evidence": "{n} sans preuve",
        "period_breaches_began": "{n} ouvert(s)",
        "period_cured_late": "{n} en retard",
        "period_cured_in_time": "{n} à temps",
        "period_findings_breached": "{n} en manquement",
        "period_findings_md": "Constats corrigés en retard / à temps",
        "period_capped": "plafonnée, au lieu de {amount}",
        "period_strip": "Verdict nuit par nuit",
        "period_no_run_legend": "pas d'exécution",
        "period_lines": "Part des éléments conformes, nuit par nuit",
        "period_last": "dernière valeur {value}",
        "period_lines_note": "Pointillé rouge : la cible de l'engagement. Les points prennent "
        "la couleur du verdict de la nuit.",
        "period_trend": "Tendance : nuits conformes sur les {n} dernières périodes",
        "period_trend_md": "Tendance : nuits conformes",
        "period_trend_aria": "{clause} : tendance",
        "period_method": "Comment ces chiffres sont calculés",
        "period_method_nights": "Une nuit est la dernière exécution d'un jour calendaire "
        "(fuseau {tz}). Une nuit est conforme quand le verdict de l'engagement était conforme, "
        "à risque ou sous dérogation ; une nuit sans preuve ne l'est jamais.",
        "period_method_subjects": "Les éléments-jours comptent chaque élément jugé chaque nuit "
        "(hors dérogations) ; ceux sans preuve comptent comme non conformes.",
        "period_method_breaches": "Un manquement est une période où le verdict de l'engagement "
        "était non conforme ; ses jours sont bornés à la période. Le délai de correction court "
        "de l'échéance d'un constat (ou de sa première nuit non conforme) à la nuit où il a été "
        "vu conforme ; p90 est le 90e centile (rang le plus proche).",
        "period_method_penalty": "Pénalités encourues : le montant par manquement pour chaque "
        "manquement ouvert dans la période, plus le montant par jour pour chaque nuit non "
        "conforme, plafonnés par mois ou par trimestre selon chaque clause de pénalité (un "
        "plafond trimestriel tient compte de ce que les mois précédents du trimestre ont "
        "consommé). Les nuits sans preuve ne coûtent rien.",
        "period_footer": "Produit le {when} par ClauseWatch {version} à partir de l'historique "
        "des exécutions. Les chiffres viennent des exécutions enregistrées ; rien n'est "
        "réévalué.",
        "period_footer_md": "Produit le {when} par ClauseWatch {version} à partir de "
        "l'historique des exécutions ; rien n'est réévalué.",
        "unit_day": "j",
        "quarter": "T{n}",
    },
}

_MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)  # fmt: skip
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
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

    def count(self, key: str, n: int, **values: object) -> str:
        """``key_one`` or ``key_other`` by ``n`` (French takes the singular for 0 and 1)."""
        one = n < 2 if self.lang == "fr" else n == 1
        return self.t(f"{key}_{'one' if one else 'other'}", n=n, **values)

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

    def decimal(self, value: float, digits: int = 1) -> str:
        """A number with a fixed count of decimals (``22.0``, ``22,0`` in French)."""
        text = f"{value:.{digits}f}"
        return text.replace(".", ",") if self.lang == "fr" else text

    def duration(self, days: float | None) -> str:
        """A span in days with one decimal (``22.0 d``, ``22,0\u00a0j``)."""
        if days is None:
            return self.t("na")
        return f"{self.decimal(days)}\u00a0{self.t('unit_day')}"

    def money(self, amount: float, currency: str) -> str:
        """A whole amount (``4,650 EUR``; ``4\u202f650 EUR`` in French)."""
        text = f"{amount:,.0f}"
        if self.lang == "fr":
            text = text.replace(",", "\u202f")
        return f"{text}\u00a0{currency}"

    def period(self, kind: str, year: int, index: int) -> str:
        """A contract period for people: ``October 2026``, ``octobre 2026``, ``Q4 2026``."""
        if kind == "quarter":
            return f"{self.t('quarter', n=index)} {year}"
        months = _MONTHS_FR if self.lang == "fr" else _MONTHS_EN
        return f"{months[index - 1]} {year}"

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
