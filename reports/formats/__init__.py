"""The output formats. Adding one is a module here whose render function registers itself
(``@FORMATS.register(...)``, see ``registry.py``) and one import line below."""

import clausewatch.reports.formats.csv_results  # noqa: F401
import clausewatch.reports.formats.html  # noqa: F401
import clausewatch.reports.formats.junit  # noqa: F401
import clausewatch.reports.formats.markdown  # noqa: F401
import clausewatch.reports.formats.oscal  # noqa: F401
from clausewatch.reports.formats.registry import FORMATS, OutputFormat, RunView

__all__ = ["FORMATS", "OutputFormat", "RunView"]
