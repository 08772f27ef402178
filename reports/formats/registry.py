"""The output-format registry: what a format is (``OutputFormat``), what it renders from
(``RunView``), and ``FORMATS``, the formats ClauseWatch knows.

A format is one module under ``reports/formats/`` whose render function registers itself::

    @FORMATS.register("junit", file_name="junit.xml", media_type="application/xml",
                      description={"en": "...", "fr": "..."})
    def render(view: RunView) -> bytes: ...

plus one import line in ``reports/formats/__init__.py``. Publishing, the output-folder guard,
the evidence pack's README and the ``--format`` choices all iterate ``FORMATS``.

``results.json`` and ``evidence.jsonl`` are not formats: they are the run's record, always
written (``reports.results_json``, ``collectors.jsonl``), and the pack and ``verify`` rest on
them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from clausewatch.core.evaluation import Evaluation
from clausewatch.core.evidence import CollectionError, Evidence
from clausewatch.core.run import RunInfo
from clausewatch.history.standing import Standing
from clausewatch.reports.i18n import DEFAULT, LANGUAGES, pick_language
from clausewatch.reports.view import ReportView, build_view


@dataclass(frozen=True, slots=True, kw_only=True)
class RunView:
    """Everything any format renders from: one run, judged.

    ``lang`` is the report language already chosen (``RunView.of`` picks ``--lang``, else the
    contract's language). The digests are those of the run's record files as written
    (``None`` outside a publication, e.g. in a test rendering one format).
    """

    evaluation: Evaluation
    info: RunInfo
    records: Sequence[Evidence | CollectionError] = ()
    lang: str = DEFAULT
    evidence_sha256: str | None = None  # of evidence.jsonl
    results_sha256: str | None = None  # of results.json
    standing: Standing | None = None  # breach starts and exposure from the history
    options: Mapping[str, str] = field(default_factory=dict)  # per format, e.g. csv_dialect
    #: what a format's render may take instead of making it again, by format name (the CSV's
    #: rows built while results.json was written); each format checks it is this run's
    prepared: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        evaluation: Evaluation,
        info: RunInfo,
        *,
        records: Sequence[Evidence | CollectionError] = (),
        lang: str | None = None,
        evidence_sha256: str | None = None,
        results_sha256: str | None = None,
        standing: Standing | None = None,
        options: Mapping[str, str] | None = None,
        prepared: Mapping[str, object] | None = None,
    ) -> RunView:
        """The view of a run; ``lang`` None means the contract's language (``ValueError`` for
        an unknown one)."""
        return cls(
            evaluation=evaluation,
            info=info,
            records=tuple(records),
            lang=pick_language(lang, evaluation.contract.language),
            evidence_sha256=evidence_sha256,
            results_sha256=results_sha256,
            standing=standing,
            options=dict(options or {}),
            prepared=dict(prepared or {}),
        )

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        """The evidence records (collection errors left out)."""
        return tuple(r for r in self.records if isinstance(r, Evidence))

    @property
    def digests(self) -> dict[str, str]:
        """SHA-256 of the record files, by file name (only those known)."""
        known = {"evidence.jsonl": self.evidence_sha256, "results.json": self.results_sha256}
        return {name: digest for name, digest in known.items() if digest}

    def report(self) -> ReportView:
        """What the human-readable reports show (``reports.view``), in ``lang``."""
        return build_view(self.evaluation, self.info, self.lang, standing=self.standing)


class OutputFormat(Protocol):
    """An output format: a file of the output folder (and of the pack's ``reports/``)."""

    @property
    def name(self) -> str:
        """What ``--format`` calls it."""

    @property
    def file_name(self) -> str:
        """The file it is written to, in the output folder and the pack's ``reports/``."""

    @property
    def media_type(self) -> str:
        """Its IANA media type."""

    @property
    def description(self) -> Mapping[str, str]:
        """One line per report language saying what it is for; English is required."""

    def render(self, view: RunView) -> bytes:
        """The file's bytes. Pure: the same view gives the same bytes."""


RenderFn = Callable[[RunView], bytes]


@dataclass(frozen=True, slots=True)
class RegisteredFormat:
    """A format registered from a render function (``FORMATS.register``)."""

    name: str
    file_name: str
    media_type: str
    description: Mapping[str, str]
    fn: RenderFn
    module: str = field(default="")

    def render(self, view: RunView) -> bytes:
        return self.fn(view)


class FormatRegistry:
    """Name -> output format, iterated in name order."""

    def __init__(self) -> None:
        self._formats: dict[str, OutputFormat] = {}
        self._modules: dict[str, str] = {}

    def register(
        self, name: str, *, file_name: str, media_type: str, description: Mapping[str, str]
    ) -> Callable[[RenderFn], RenderFn]:
        """Register the decorated render function as format ``name``."""

        def deco(fn: RenderFn) -> RenderFn:
            self.add(
                RegisteredFormat(name, file_name, media_type, dict(description), fn),
                module=fn.__module__,
            )
            return fn

        return deco

    def add(self, fmt: OutputFormat, *, module: str = "") -> None:
        """Register a format object; ``ValueError`` if it clashes with one already known."""
        if fmt.name in self._formats:
            raise ValueError(f"output format {fmt.name!r} registered twice")
        if not fmt.name.isidentifier() or fmt.name.lower() != fmt.name:
            raise ValueError(f"output format name {fmt.name!r}: use lower-case letters, digits, _")
        if any(f.file_name == fmt.file_name for f in self._formats.values()):
            raise ValueError(f"output file {fmt.file_name!r} claimed by two formats")
        if not fmt.file_name or "/" in fmt.file_name or fmt.file_name.startswith("."):
            raise ValueError(f"output format {fmt.name!r}: {fmt.file_name!r} is not a file name")
        if "en" not in fmt.description or set(fmt.description) - set(LANGUAGES):
            raise ValueError(
                f"output format {fmt.name!r}: describe it in English, and only in "
                f"{', '.join(LANGUAGES)}"
            )
        if any("\n" in line for line in fmt.description.values()):
            raise ValueError(f"output format {fmt.name!r}: its description is one line")
        self._formats[fmt.name] = fmt
        self._modules[fmt.name] = module or type(fmt).__module__

    def __getitem__(self, name: str) -> OutputFormat:
        return self._formats[name]

    def __contains__(self, name: object) -> bool:
        return name in self._formats

    def __iter__(self) -> Iterator[OutputFormat]:
        return iter([self._formats[n] for n in self.names()])

    def __len__(self) -> int:
        return len(self._formats)

    def names(self) -> list[str]:
        return sorted(self._formats)

    def file_names(self) -> tuple[str, ...]:
        return tuple(f.file_name for f in self)

    def module_of(self, name: str) -> str:
        """The module that registered format ``name``."""
        return self._modules[name]

    def select(self, names: Iterable[str] | None = None) -> list[OutputFormat]:
        """The formats named (every one when ``names`` is None), in name order; ``ValueError``
        naming the unknown ones and the choices."""
        if names is None:
            return list(self)
        wanted = set(names)
        unknown = sorted(wanted - set(self._formats))
        if unknown:
            raise ValueError(
                f"unknown output format {', '.join(unknown)} (choose from "
                f"{', '.join(self.names())})"
            )
        return [f for f in self if f.name in wanted]


FORMATS = FormatRegistry()
