"""The Jinja2 environment of the run report and the evidence pack's README (``templates/``)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2


@functools.cache
def environment() -> jinja2.Environment:
    """Autoescape on for ``*.html.j2``, off for ``*.md.j2``; undefined names are errors.

    One per process, never changed once made: each template is compiled once however many runs
    a process renders (``run --portfolio``: one report per contract; about 40 ms a report).
    Jinja2 is imported here, by the first report rendered: a run that writes none (``evaluate``
    without ``--out``) does not load it."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("clausewatch.reports", "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), disabled_extensions=("md.j2",), default=True
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
