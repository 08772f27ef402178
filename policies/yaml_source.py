"""Read a YAML file safely and report problems as ``file:line:col: path: message``.

Shared by every YAML input (the contract, the sources file). It reads with PyYAML's safe
loader, keeps the node tree so that every problem points at a line, and refuses what would hurt:
files too large, bytes that are not UTF-8, several documents, duplicate keys (YAML would keep the
last one silently) and alias bombs (anchors that expand beyond a node budget). Dates stay
strings, so that JSON Schema's ``format: date`` judges them and not YAML 1.1's resolver.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from clausewatch.core.problems import InputError, Problem

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000


class _Loader(yaml.SafeLoader):
    """The safe loader without the timestamp resolver: dates stay strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """A parsed file: its data, its node tree (for line numbers) and its raw bytes."""

    file: str
    data: Any
    root: yaml.Node
    raw: bytes

    def problem(self, path: Sequence[str | int], message: str, *, key: bool = False) -> Problem:
        node = self.node_at(path, key=key)
        mark = node.start_mark
        return Problem(self.file, mark.line + 1, mark.column + 1, format_path(path), message)

    def node_at(self, path: Sequence[str | int], *, key: bool = False) -> yaml.Node:
        """The node at ``path`` (or its key node, with ``key``); the deepest existing one."""
        node = self.root
        for i, part in enumerate(path):
            last = i == len(path) - 1
            if isinstance(node, yaml.MappingNode):
                pair = next(((k, v) for k, v in node.value if k.value == part), None)
                if pair is None:
                    break
                node = pair[0] if (key and last) else pair[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if part >= len(node.value):
                    break
                node = node.value[part]
            else:
                break
        return node


def format_path(path: Iterable[str | int]) -> str:
    """``["commitments", 0, "params"]`` -> ``commitments[0].params``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_yaml(path: Path | str, name: str | None = None, raw: bytes | None = None) -> YamlDocument:
    """Parse one YAML file (or ``raw``, its bytes); raise ``InputError`` naming the file, line
    and problem."""
    name = name or str(path)
    if raw is None:
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise InputError(
                [Problem(name, 0, 0, "", f"cannot read: {exc.strerror or exc}")]
            ) from exc
    if len(raw) > MAX_BYTES:
        raise InputError(
            [Problem(name, 1, 1, "", f"file is {len(raw)} bytes, over the {MAX_BYTES}-byte limit")]
        )
    text = _decode(name, raw)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise InputError([Problem(name, 1, 1, "", "file is empty")])
        problems = list(_walk_problems(name, root))
        if problems:
            raise InputError(problems)
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(str(x) for x in (exc.context, exc.problem) if x)
        raise InputError([Problem(name, line, col, "", f"invalid YAML: {message}")]) from exc
    except yaml.YAMLError as exc:
        raise InputError([Problem(name, 1, 1, "", f"invalid YAML: {exc}")]) from exc
    except RecursionError as exc:
        raise InputError([Problem(name, 1, 1, "", "invalid YAML: nested too deeply")]) from exc
    finally:
        loader.dispose()
    return YamlDocument(name, data, root, raw)


def _decode(name: str, raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError([Problem(name, 1, 1, "", "file is UTF-16; save it as UTF-8")])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            [
                Problem(
                    name,
                    line,
                    col,
                    "",
                    f"not UTF-8: byte 0x{raw[exc.start]:02x} cannot be decoded; save the file "
                    "as UTF-8",
                )
            ]
        ) from exc


def _walk_problems(name: str, root: yaml.Node) -> Iterable[Problem]:
    """Duplicate keys anywhere, and a node budget that stops alias bombs before expansion."""
    budget = MAX_NODES
    stack: list[yaml.Node] = [root]
    while stack:
        node = stack.pop()
        budget -= 1
        if budget < 0:
            mark = root.start_mark
            yield Problem(
                name,
                mark.line + 1,
                mark.column + 1,
                "",
                f"document expands to more than {MAX_NODES} nodes (anchors and aliases "
                "repeated too often)",
            )
            return
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        first = seen[key.value].start_mark.line + 1
                        yield Problem(
                            name,
                            key.start_mark.line + 1,
                            key.start_mark.column + 1,
                            "",
                            f"duplicate key {key.value!r} (first defined on line {first})",
                        )
                    else:
                        seen[key.value] = key
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def schema_problems(
    doc: YamlDocument,
    schema: Mapping[str, Any],
    instance: Any = None,
    base: Sequence[str | int] = (),
) -> list[Problem]:
    """Every JSON Schema violation of ``instance`` (default: the whole document), located."""
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    target = doc.data if instance is None else instance
    out = []
    for err in validator.iter_errors(target):
        for leaf in _leaves(err):
            path = [*base, *leaf.absolute_path]
            key = False
            if leaf.validator == "additionalProperties" and isinstance(leaf.instance, dict):
                allowed = set(_properties(leaf))
                extra = [k for k in leaf.instance if k not in allowed]
                if extra:
                    path, key = [*path, extra[0]], True
            out.append(doc.problem(path, _message(leaf), key=key))
    return out


def _leaves(err: ValidationError) -> list[ValidationError]:
    """For oneOf/anyOf failures, the most relevant sub-error rather than a wall of text."""
    if err.context:
        from jsonschema.exceptions import best_match

        best = best_match(err.context)
        if best is not None and best.context:
            return _leaves(best)
        return [best] if best is not None else [err]
    return [err]


def _properties(err: ValidationError) -> list[str]:
    """The property names the failing schema declares."""
    schema = err.schema
    return list(schema.get("properties", {})) if isinstance(schema, Mapping) else []


def _message(err: ValidationError) -> str:
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = sorted(_properties(err))
        extra = sorted(k for k in err.instance if k not in allowed)
        return f"unknown key(s) {', '.join(map(repr, extra))} (allowed: {', '.join(allowed)})"
    if err.validator == "required":
        return err.message.replace("is a required property", "is required")
    return err.message
