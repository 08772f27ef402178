"""Read a YAML file safely and report problems as ``file:line:col: path: message``.

Shared by every YAML input (the contract, the sources file, the alerts file). It reads with
PyYAML's safe constructor, keeps the node tree so that every problem points at a line, and
refuses what would hurt, each with its location, never with a traceback:

- files too large, bytes that are not UTF-8, control characters, several documents;
- duplicate keys (YAML would keep the last one silently) and alias bombs (anchors that expand
  beyond a node budget), nesting deeper than ``MAX_DEPTH``;
- keys that are not text (``1:``, ``yes:``, ``~:``, a list as a key): every key must be a string,
  so quote it (``"1":``). Keys are refused, not converted;
- numbers that are not finite (``.nan``, ``.inf``, ``-.inf``, ``1e400``, which overflows to
  infinity) and integers longer than ``MAX_INT_CHARS`` characters (Python refuses to convert an
  integer of 4,300 digits or more); explicit tags that do not fit their text (``!!int abc``);
- tags beyond JSON's types (``!!binary``, ``!!set``, ``!!timestamp``, ``!!python/...``).

Dates stay strings, so that JSON Schema's ``format: date`` judges them and not YAML 1.1's
resolver.

Each file is parsed once, by libyaml (PyYAML's C parser) with the garbage collector paused while
the tree is built (the collector otherwise rescans the growing tree: most of the time a 2 MiB
file took). When libyaml refuses a file, the pure-Python parser reads it again, only to word the
error exactly as PyYAML does; a file with a tab is read by the pure-Python parser alone (libyaml
accepts tabs PyYAML refuses), and a problem on an empty value is located from PyYAML's tree
(the two place empty values differently): every message is what PyYAML alone would give.

In schema patterns ``$`` is the end of the text, as JSON Schema (ECMA-262) and jsonschema_rs
read it, not Python's "end or before a final line break": ``"id\\n"`` does not pass
``^[a-z]+$``.

Schema validators are built once per schema. A document ``jsonschema_rs`` accepts is valid; only
one it refuses is walked by ``jsonschema`` for the located messages, so ``jsonschema`` always has
the last word (the mutation tests check that jsonschema_rs never accepts what it refuses).
``jsonschema`` is imported, and its validator built, when a document is first walked: reading
valid files (a contract, at each ``evaluate``) does not load it.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs
import yaml
from yaml.constructor import SafeConstructor
from yaml.cyaml import CParser  # type: ignore[attr-defined]
from yaml.resolver import Resolver

from clausewatch.core.gc_policy import paused
from clausewatch.core.problems import InputError, Problem

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 100
MAX_INT_CHARS = 64

_T = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL, MERGE, VALUE = (
    _T + "str", _T + "int", _T + "float", _T + "bool", _T + "null", _T + "merge", _T + "value"
)
SEQ, MAP = _T + "seq", _T + "map"
#: Key tags that are text: strings, and ``=`` (which PyYAML's constructor turns into a string).
_TEXT_KEYS = (STR, VALUE)
_KEY_READS_AS = {INT: "a number", FLOAT: "a number", BOOL: "a boolean", NULL: "null"}
#: Halves of UTF-16 pairs, which a double-quoted escape ("\ud800") can produce: not characters.
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Line breaks as YAML counts them (for locating what the parser never saw).
_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


class _Resolver(Resolver):
    """YAML 1.1's implicit types without the timestamp: dates stay strings."""


_Resolver.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _T + "timestamp"]
    for first, resolvers in Resolver.yaml_implicit_resolvers.copy().items()
}


class _Constructor(SafeConstructor):
    """The safe constructor limited to JSON's types (and merge keys); any other tag is refused."""


_Constructor.yaml_constructors = {
    tag: fn
    for tag, fn in SafeConstructor.yaml_constructors.items()
    if tag in (STR, INT, FLOAT, BOOL, NULL, SEQ, MAP, None)
}


class _Loader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    _Constructor,
    _Resolver,
):
    """The pure-Python loader: used only to word the error of a file libyaml refused."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)


class _CLoader(CParser, _Constructor, _Resolver):
    """libyaml's parser with the same constructor and resolver."""

    def __init__(self, stream: str) -> None:
        CParser.__init__(self, stream)
        _Constructor.__init__(self)
        _Resolver.__init__(self)


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """A parsed file: its data, its node tree (for line numbers) and its raw bytes."""

    file: str
    data: Any
    root: yaml.Node
    raw: bytes
    from_libyaml: bool = False
    _keys: dict[int, dict[Any, tuple[yaml.Node, yaml.Node]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _reference: list[YamlDocument] = field(default_factory=list, repr=False, compare=False)

    def problem(self, path: Sequence[str | int], message: str, *, key: bool = False) -> Problem:
        node = self.node_at(path, key=key)
        if self.from_libyaml and _is_empty(node):
            # libyaml puts an empty value where the next token starts, PyYAML right after the
            # indicator before it: locate it as PyYAML does, from its own tree of the file.
            node = self._pure_python().node_at(path, key=key)
        mark = node.start_mark
        return Problem(self.file, mark.line + 1, mark.column + 1, format_path(path), message)

    def _pure_python(self) -> YamlDocument:
        if not self._reference:
            with paused():
                root = _compose_python(self.file, _decode(self.file, self.raw))
            self._reference.append(YamlDocument(self.file, self.data, root or self.root, self.raw))
        return self._reference[0]

    def node_at(self, path: Sequence[str | int], *, key: bool = False) -> yaml.Node:
        """The node at ``path`` (or its key node, with ``key``); the deepest existing one.

        Each mapping's keys are indexed the first time they are looked up, so locating every
        problem of a large file stays linear.
        """
        node = self.root
        for i, part in enumerate(path):
            last = i == len(path) - 1
            if isinstance(node, yaml.MappingNode):
                pair = self._index(node).get(part)
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

    def _index(self, node: yaml.MappingNode) -> dict[Any, tuple[yaml.Node, yaml.Node]]:
        index = self._keys.get(id(node))
        if index is None:
            index = {}
            for k, v in node.value:
                index.setdefault(k.value if isinstance(k, yaml.ScalarNode) else id(k), (k, v))
            self._keys[id(node)] = index
        return index


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
    _refuse_unprintable(name, text)
    with paused():
        loader = _CLoader(text)
        try:
            root, fast = _compose(name, text, loader)
            problems = list(_walk_problems(name, root, loader))
            if problems:
                raise InputError(problems)
            data = _construct(root, loader)
        except yaml.MarkedYAMLError as exc:
            raise InputError([_located(name, exc)]) from exc
        except RecursionError as exc:
            raise InputError([Problem(name, 1, 1, "", "invalid YAML: nested too deeply")]) from exc
        finally:
            loader.dispose()
    return YamlDocument(name, data, root, raw, from_libyaml=fast)


def _is_empty(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.value == "" and not node.style  # plain


def _compose(name: str, text: str, loader: _CLoader) -> tuple[yaml.Node, bool]:
    """The node tree, and whether libyaml built it.

    A file libyaml refuses is read again by the pure-Python parser, whose error (or, should it
    accept the file, whose tree) is the answer. So is a file with a tab: libyaml accepts tabs
    in places PyYAML refuses them, and a file must mean the same whichever parser reads it.
    """
    root: yaml.Node | None
    fast = "\t" not in text
    if fast:
        try:
            root = loader.get_single_node()
        except yaml.YAMLError:
            root, fast = _compose_python(name, text), False
    else:
        root = _compose_python(name, text)
    if root is None:
        raise InputError([Problem(name, 1, 1, "", "file is empty")])
    return root, fast


def _compose_python(name: str, text: str) -> yaml.Node | None:
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise InputError([_located(name, exc)]) from exc
    except yaml.YAMLError as exc:
        raise InputError([Problem(name, 1, 1, "", f"invalid YAML: {exc}")]) from exc
    except RecursionError as exc:
        raise InputError([Problem(name, 1, 1, "", "invalid YAML: nested too deeply")]) from exc
    finally:
        loader.dispose()


def _located(name: str, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    message = " ".join(str(x) for x in (exc.context, exc.problem) if x)
    return Problem(name, line, col, "", f"invalid YAML: {message}")


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


def _refuse_unprintable(name: str, text: str) -> None:
    """Control and other non-printable characters, which YAML forbids, located (PyYAML's own
    definition of what is printable)."""
    match = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if match is None:
        return
    at = match.start()
    breaks = list(_BREAK.finditer(text, 0, at))
    line = len(breaks) + 1
    col = at - (breaks[-1].end() if breaks else 0) + 1
    code = ord(match.group())
    escape = f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
    raise InputError(
        [
            Problem(
                name,
                line,
                col,
                "",
                f"control character U+{code:04X} is not allowed in YAML; remove it, or write "
                f'it as "{escape}" inside a double-quoted string',
            )
        ]
    )


def _walk_problems(name: str, root: yaml.Node, constructor: SafeConstructor) -> Iterator[Problem]:
    """Duplicate and non-text keys, unusable scalars, depth, and a node budget that stops alias
    bombs before expansion."""
    budget = MAX_NODES
    stack: list[tuple[yaml.Node, tuple[str | int, ...]]] = [(root, ())]
    while stack:
        node, path = stack.pop()
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
        if len(path) > MAX_DEPTH:
            yield _at(name, node, path, f"nested deeper than {MAX_DEPTH} levels")
            continue
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, yaml.Node] = {}
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag not in (*_TEXT_KEYS, MERGE):
                    yield _at(name, key, path, _key_problem(key))
                    continue
                if key.style == '"' and _SURROGATE.search(key.value):
                    yield _at(name, key, path, _SURROGATE_MESSAGE)
                    continue
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
                stack.append((value, (*path, key.value)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, i)) for i, item in enumerate(node.value))
        elif isinstance(node, yaml.ScalarNode) and node.tag in (INT, FLOAT, BOOL):
            message = _scalar_problem(node, constructor)
            if message:
                yield _at(name, node, path, message)
        elif isinstance(node, yaml.ScalarNode) and node.style == '"' and _SURROGATE.search(
            node.value
        ):
            yield _at(name, node, path, _SURROGATE_MESSAGE)


_SURROGATE_MESSAGE = "an escape such as \\ud800 stands for half a UTF-16 pair, not a character"


class _Unusual(Exception):
    """A tree beyond the plain JSON subset (merge keys, other tags): PyYAML constructs it."""


def _construct(root: yaml.Node, constructor: SafeConstructor) -> Any:
    """The data of a checked tree: what ``construct_document`` gives, built in one iterative
    pass for the plain JSON subset (aliases share one object, as with PyYAML); anything else
    is left to PyYAML's constructor, which also words the errors."""
    try:
        return _construct_plain(root, constructor)
    except _Unusual:
        return constructor.construct_document(root)


def _construct_plain(root: yaml.Node, constructor: SafeConstructor) -> Any:
    made: dict[int, Any] = {}
    pending: list[tuple[yaml.Node, Any]] = []

    def value(node: yaml.Node) -> Any:
        found = made.get(id(node))
        if found is not None:
            return found
        if isinstance(node, yaml.ScalarNode):
            return _plain_scalar(node, constructor)
        obj: dict[str, Any] | list[Any]
        if isinstance(node, yaml.MappingNode) and node.tag == MAP:
            obj = {}
        elif isinstance(node, yaml.SequenceNode) and node.tag == SEQ:
            obj = []
        else:
            raise _Unusual
        made[id(node)] = obj
        pending.append((node, obj))
        return obj

    top = value(root)
    while pending:
        node, obj = pending.pop()
        if isinstance(obj, dict):
            for key, item in node.value:
                if key.tag not in _TEXT_KEYS:
                    raise _Unusual
                obj[key.value] = value(item)
        else:
            obj.extend(value(item) for item in node.value)
    return top


def _plain_scalar(node: yaml.ScalarNode, constructor: SafeConstructor) -> Any:
    tag = node.tag
    if tag == STR:
        return node.value
    if tag == INT:
        return constructor.construct_yaml_int(node)
    if tag == FLOAT:
        return constructor.construct_yaml_float(node)
    if tag == BOOL:
        return constructor.construct_yaml_bool(node)
    if tag == NULL:
        return None
    raise _Unusual


def _at(name: str, node: yaml.Node, path: Sequence[str | int], message: str) -> Problem:
    mark = node.start_mark
    return Problem(name, mark.line + 1, mark.column + 1, format_path(path), message)


def _key_problem(key: yaml.Node) -> str:
    if not isinstance(key, yaml.ScalarNode):
        return "a key must be text, not a list or mapping"
    reads_as = _KEY_READS_AS.get(key.tag)
    if reads_as:
        return f"key {key.value} is read as {reads_as}; keys are text: write it in quotes " \
            f'("{key.value}")'
    return f"key {key.value!r} is tagged {key.tag}; keys are text"


def _scalar_problem(node: yaml.ScalarNode, constructor: SafeConstructor) -> str | None:
    """Why a number or boolean cannot be used (None if it can)."""
    text = node.value
    try:
        if node.tag == BOOL:
            if text.lower() not in constructor.bool_values:
                return f"{text!r} is not a boolean"
            return None
        if node.tag == INT:
            if len(text) > MAX_INT_CHARS:
                return f"integer of {len(text)} characters is too long (at most {MAX_INT_CHARS})"
            constructor.construct_yaml_int(node)
            return None
        value = constructor.construct_yaml_float(node)
    except (ValueError, IndexError):
        return f"{text!r} is not {'a number' if node.tag == FLOAT else 'an integer'}"
    if math.isfinite(value):
        return None
    if "nan" in text.lower() or "inf" in text.lower():
        return f"{text} is not a finite number: NaN and infinities are refused"
    return f"{text} is too large: it is not a finite number"


def ecma_anchors(pattern: str) -> str:
    """``pattern`` with every ``$`` anchor made ``\\Z``: the end of the text, as in ECMA-262
    (which JSON Schema's ``pattern`` follows, and jsonschema_rs with it), where Python's ``$``
    also matches before a final line break (so ``^[a-z]+$`` would let ``"id\\n"`` through)."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]" or out[-1] in ("[", "[^")  # "[]" and "[^]": a literal ]
        elif char == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "^":
                out.append("[^")
                i += 2
                continue
        elif char == "$":
            char = "\\Z"
        out.append(char)
        i += 1
    return "".join(out)


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(ecma_anchors(pattern))


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """jsonschema's ``pattern`` keyword, same message, with ECMA-262's ``$``."""
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not _compiled(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _reference_class() -> Any:
    """jsonschema's Draft 2020-12 validator, with ECMA-262's ``$`` in ``pattern``."""
    from jsonschema import Draft202012Validator
    from jsonschema.validators import extend

    return extend(Draft202012Validator, {"pattern": _pattern})  # type: ignore[no-untyped-call]


class _Validators:
    """The two validators of one schema, built once: ``jsonschema`` (the reference, for
    messages) and ``jsonschema_rs`` (the fast confirmation), or None where it cannot compile.
    The reference is built when first asked for: only a document the fast one refuses needs it."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema
        self.fast: jsonschema_rs.Draft202012Validator | None
        try:
            self.fast = jsonschema_rs.Draft202012Validator(dict(schema), validate_formats=True)
        except (ValueError, TypeError):
            self.fast = None

    def surely_valid(self, instance: Any) -> bool:
        """True only when the fast validator accepts the instance; any doubt says False."""
        if self.fast is None:
            return False
        try:
            return bool(self.fast.is_valid(instance))
        except (ValueError, TypeError, OverflowError):
            return False

    @cached_property
    def reference(self) -> Any:
        """The ``jsonschema`` validator of the schema (for the located messages)."""
        from jsonschema import FormatChecker

        return _reference_class()(dict(self.schema), format_checker=FormatChecker())


_CACHE: OrderedDict[int, _Validators] = OrderedDict()
_CACHE_SIZE = 64


def validators(schema: Mapping[str, Any]) -> _Validators:
    """The validators of ``schema`` (kept for the last few schemas, by identity)."""
    found = _CACHE.get(id(schema))
    if found is not None and found.schema is schema:
        _CACHE.move_to_end(id(schema))
        return found
    found = _CACHE[id(schema)] = _Validators(schema)
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return found


def schema_problems(
    doc: YamlDocument,
    schema: Mapping[str, Any],
    instance: Any = None,
    base: Sequence[str | int] = (),
) -> list[Problem]:
    """Every JSON Schema violation of ``instance`` (default: the whole document), located."""
    checker = validators(schema)
    target = doc.data if instance is None else instance
    if checker.surely_valid(target):
        return []
    out = []
    for err in checker.reference.iter_errors(target):
        for leaf in _leaves(err):
            path = [*base, *leaf.absolute_path]
            key = False
            if (
                leaf.validator == "additionalProperties"
                and isinstance(leaf.instance, dict)
                and isinstance(leaf.schema, Mapping)
            ):
                allowed = set(leaf.schema.get("properties", {}))
                extra = [k for k in leaf.instance if k not in allowed]
                if extra:
                    path, key = [*path, extra[0]], True
            out.append(doc.problem(path, _message(leaf), key=key))
    return out


def _leaves(err: ValidationError) -> list[ValidationError]:
    """For oneOf/anyOf failures, the most relevant sub-error rather than a wall of text."""
    from jsonschema.exceptions import best_match

    if err.context:
        best = best_match(err.context)
        if best is not None and best.context:
            return _leaves(best)
        return [best] if best is not None else [err]
    return [err]


def _message(err: ValidationError) -> str:
    schema = err.schema if isinstance(err.schema, Mapping) else {}
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = sorted(schema.get("properties", {}))
        extra = sorted((k for k in err.instance if k not in allowed), key=repr)
        return f"unknown key(s) {', '.join(map(repr, extra))} (allowed: {', '.join(allowed)})"
    if err.validator == "required":
        return str(err.message).replace("is a required property", "is required")
    expected = schema.get("x-expected")
    if err.validator == "pattern" and expected:
        return f"{err.instance!r} is not {expected}"
    if err.validator == "type" and _reads_as_number(err.instance) and "number" in str(
        err.validator_value
    ):
        return (
            f"{err.instance!r} is text, not a number: YAML reads an exponent only as in 1.0e+30 "
            "(a dot and a sign)"
        )
    return str(err.message)


def _reads_as_number(value: Any) -> bool:
    """Text such as ``1e30`` that YAML 1.1 leaves a string but people mean as a number."""
    if not isinstance(value, str) or len(value) > MAX_INT_CHARS:
        return False
    try:
        float(value)
    except ValueError:
        return False
    return any(c.isdigit() for c in value) and ("e" in value.lower())
