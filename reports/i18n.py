"""The report catalogue, kept at its old address: see ``clausewatch.core.i18n`` (gettext +
Babel), shared with the alerts."""

from clausewatch.core.i18n import DEFAULT, LANGUAGES, Catalogue, pick_language

__all__ = ["DEFAULT", "LANGUAGES", "Catalogue", "pick_language"]
