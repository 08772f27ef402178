"""The output formats. Adding one is a module here whose render function registers itself
(``@FORMATS.register(...)``, see ``registry.py``) and its name on the import line below."""

from clausewatch.reports.formats import csv_results, html, junit, markdown, oscal  # noqa: F401
from clausewatch.reports.formats.registry import FORMATS, OutputFormat, RunView

__all__ = ["FORMATS", "OutputFormat", "RunView"]
