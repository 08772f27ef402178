"""Reading YAML: every refusal is located, none is a traceback, and the fast path (libyaml, one
construction pass, jsonschema_rs) gives exactly what the reference path (PyYAML's pure-Python
parser and constructor, jsonschema) gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from builders import REPO
from jsonschema.exceptions import ValidationError

from clausewatch.checks import CHECKS
from clausewatch.core.problems import InputError
from clausewatch.policies import yaml_source
from clausewatch.policies.load import load_contract
from clausewatch.policies.yaml_source import (
    MAX_DEPTH,
    YamlDocument,
    _CLoader,
    _construct,
    _Loader,
    _message,
    read_yaml,
    schema_problems,
)

EXAMPLES = sorted((REPO / "policies" / "examples").glob("*.yaml"))
MINIMAL = (Path(__file__).parent / "test_load.py").read_text().split('MINIMAL = """\\\n')[1]
MINIMAL = MINIMAL.split('"""')[0]


def problems(text: str | bytes) -> list[str]:
    raw = text.encode() if isinstance(text, str) else text
    with pytest.raises(InputError) as info:
        load_contract("c.yaml", CHECKS, raw=raw)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title: T\x07", 'c.yaml:3:11: control character U+0007 is not allowed in YAML; remove '
         'it, or write it as "\\x07" inside a double-quoted string'),
        ('title: "T\x01"', "c.yaml:3:12: control character U+0001"),
        ("title: T\x1b[31m", "c.yaml:3:11: control character U+001B"),
        ("title: T\ufffe", "c.yaml:3:11: control character U+FFFE"),
        ('title: "\\ud800"', "c.yaml:3:10: title: an escape such as \\ud800 stands for half a"),
    ],
)
def test_control_characters_are_located(text, expected):
    (got,) = problems(MINIMAL.replace("title: T", text))
    assert got.startswith(expected.replace("title: ", "contract.title: ", 1)
                          if "escape" in expected else expected)


def test_control_character_after_crlf_and_unicode_is_located_by_character():
    text = MINIMAL.replace("\n", "\r\n").replace("title: T", "title: Café \x08")
    (got,) = problems(text)
    assert got.startswith("c.yaml:3:15: control character U+0008")


def test_non_utf8_byte_without_bom_is_located():
    raw = MINIMAL.encode().replace(b"title: T", b"title: \x92T")
    assert problems(raw) == [
        "c.yaml:3:10: not UTF-8: byte 0x92 cannot be decoded; save the file as UTF-8"
    ]


@pytest.mark.parametrize("digits", [4300, 4301, 100_000])
def test_integers_too_long_for_python_are_refused_with_their_place(digits):
    (got,) = problems(MINIMAL.replace("period_days: 92", "period_days: " + "9" * digits))
    assert got == (f"c.yaml:14:27: commitments[0].params.period_days: integer of {digits} "
                   "characters is too long (at most 64)")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (".nan", ".nan is not a finite number: NaN and infinities are refused"),
        (".NaN", ".NaN is not a finite number: NaN and infinities are refused"),
        (".inf", ".inf is not a finite number: NaN and infinities are refused"),
        ("-.Inf", "-.Inf is not a finite number: NaN and infinities are refused"),
        ("+.inf", "+.inf is not a finite number: NaN and infinities are refused"),
        ("1.0e+400", "1.0e+400 is too large: it is not a finite number"),
        ("-1.5e+309", "-1.5e+309 is too large: it is not a finite number"),
        ("!!float 1e400", "1e400 is too large: it is not a finite number"),
    ],
)
def test_non_finite_numbers_are_refused_everywhere(value, message):
    for old, new, where in [
        ("target: 95%", f"target: {value}", "c.yaml:15:13: commitments[0].target"),
        ("period_days: 92", f"period_days: {value}",
         "c.yaml:14:27: commitments[0].params.period_days"),
        ("    target: 95%\n", f"    target: 95%\n    description: {value}\n",
         "c.yaml:16:18: commitments[0].description"),
    ]:
        assert problems(MINIMAL.replace(old, new)) == [f"{where}: {message}"]


def test_exponent_without_dot_is_text_and_the_message_says_how_to_write_it():
    assert problems(MINIMAL.replace("period_days: 92", "period_days: 1e30")) == [
        "c.yaml:14:27: commitments[0].params.period_days: '1e30' is text, not a number: YAML "
        "reads an exponent only as in 1.0e+30 (a dot and a sign)"
    ]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("3", 'key 3 is read as a number; keys are text: write it in quotes ("3")'),
        ("1.5", 'key 1.5 is read as a number; keys are text: write it in quotes ("1.5")'),
        ("yes", 'key yes is read as a boolean; keys are text: write it in quotes ("yes")'),
        ("~", 'key ~ is read as null; keys are text: write it in quotes ("~")'),
        ("[a, b]", "a key must be text, not a list or mapping"),
        ("!!binary aGk=", "key 'aGk=' is tagged tag:yaml.org,2002:binary; keys are text"),
    ],
)
def test_keys_that_are_not_text_are_refused_not_converted(key, message):
    got = problems(MINIMAL.replace("period_days: 92", f"period_days: 92, {key}: x"))
    assert got == [f"c.yaml:14:31: commitments[0].params: {message}"]


def test_an_integer_severity_key_is_refused_with_its_line():
    text = MINIMAL.replace("check: restore_test", "check: patch_lag").replace(
        "params: {period_days: 92}", "params:\n      deadlines_days:\n        critical: 7\n"
        "        4: 30")
    assert problems(text) == [
        "c.yaml:17:9: commitments[0].params.deadlines_days: key 4 is read as a number; keys "
        'are text: write it in quotes ("4")'
    ]
    ok = load_contract("c.yaml", CHECKS, raw=text.replace("4: 30", '"4": 30').encode())
    assert ok.commitments[0].params["deadlines_days"] == {"critical": 7, "4": 30}


def test_unknown_keys_of_mixed_types_are_reported_not_crashed_on():
    """The message sorter itself copes with keys of several types (for data not from YAML)."""
    err = ValidationError("x", validator="additionalProperties", instance={1: 0, "b": 0, "a": 0},
                          schema={"properties": {"a": {}}})
    assert _message(err) == "unknown key(s) 'b', 1 (allowed: a)"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("!!int abc", "'abc' is not an integer"),
        ('!!int ""', "'' is not an integer"),
        ("!!float x", "'x' is not a number"),
        ("!!bool maybe", "'maybe' is not a boolean"),
    ],
)
def test_explicit_tags_that_do_not_fit_their_text(value, message):
    assert problems(MINIMAL.replace("period_days: 92", f"period_days: {value}")) == [
        f"c.yaml:14:27: commitments[0].params.period_days: {message}"
    ]


@pytest.mark.parametrize("tag", ["!!binary aGk=", "!!set {a: null}", "!!timestamp 2026-01-01",
                                 "!!omap [a: 1]", "!!python/tuple [1]", "!custom x"])
def test_tags_beyond_json_types_are_refused_with_their_place(tag):
    (got,) = problems(MINIMAL.replace("title: T", f"title: {tag}"))
    assert got.startswith("c.yaml:3:10: invalid YAML: could not determine a constructor")


def test_nesting_deeper_than_the_limit_is_located():
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    (got,) = problems(MINIMAL.replace("    target: 95%\n", f"    target: 95%\n    x: {deep}\n"))
    assert got.startswith("c.yaml:16:") and got.endswith(f"nested deeper than {MAX_DEPTH} levels")


def test_yaml_syntax_errors_keep_pythons_wording():
    """libyaml refuses the file; the message is PyYAML's own, as before."""
    assert problems("contract: [unclosed\n") == [
        "c.yaml:2:1: invalid YAML: while parsing a flow sequence expected ',' or ']', but got "
        "'<stream end>'"
    ]
    (got,) = problems("a: 1\n\t- b\n")
    assert got == "c.yaml:2:1: invalid YAML: while scanning for the next token found character " \
        "'\\t' that cannot start any token"
    (got,) = problems("a: 1\n---\nb: 2\n")
    assert got.startswith("c.yaml:2:1: invalid YAML: expected a single document in the stream")


def test_merge_keys_and_aliases_still_work():
    text = MINIMAL.replace("    params: {period_days: 92}", "    params:\n      <<: &p "
                           "{period_days: 92}\n      max_duration_minutes: 60")
    k = load_contract("c.yaml", CHECKS, raw=text.encode())
    assert dict(k.commitments[0].params) == {"period_days": 92, "max_duration_minutes": 60}


def test_node_lookup_indexes_each_mapping_once():
    """Locating 3,000 problems in one mapping reads its keys once (not once per problem)."""
    values = "\n".join(f"        s{i}: x" for i in range(3000))
    text = MINIMAL.replace("check: restore_test", "check: patch_lag").replace(
        "params: {period_days: 92}", f"params:\n      deadlines_days:\n{values}")
    got = problems(text)
    assert len(got) == 3000
    assert got[0] == "c.yaml:16:13: commitments[0].params.deadlines_days.s0: 'x' is not of " \
        "type 'number'"
    doc = read_yaml("c.yaml", raw=text.encode())
    found = schema_problems(doc, CHECKS.params_schema("patch_lag"),
                            doc.data["commitments"][0]["params"], base=["commitments", 0, "params"])
    assert len(found) == 3000
    assert len(doc._keys) == 4  # root, commitment, params, deadlines_days: one index each
    deadlines = doc.node_at(["commitments", 0, "params", "deadlines_days"])
    index = doc._keys[id(deadlines)]
    doc.problem(["commitments", 0, "params", "deadlines_days", "s1"], "m")
    assert doc._keys[id(deadlines)] is index and len(index) == 3000


# -- the fast path and the reference path agree --------------------------------------------


def _nodes(node: yaml.Node, out: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    stack = [node]
    while stack:
        n = stack.pop()
        out.append((type(n).__name__, n.tag, n.start_mark.line, n.start_mark.column,
                    n.value if isinstance(n, yaml.ScalarNode) else len(n.value)))
        if isinstance(n, yaml.MappingNode):
            stack.extend(x for pair in n.value for x in pair)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return out


def reference_tree(text: str) -> yaml.Node | None:
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def fast_tree(text: str) -> yaml.Node | None:
    loader = _CLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_libyaml_and_pure_python_trees_are_identical(path):
    text = path.read_text(encoding="utf-8")
    assert _nodes(fast_tree(text), []) == _nodes(reference_tree(text), [])


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_one_pass_construction_equals_pyyaml_construction(path):
    text = path.read_text(encoding="utf-8")
    loader = _Loader(text)
    root = loader.get_single_node()
    assert _construct(root, loader) == loader.construct_document(root)


def test_every_schema_the_loader_uses_has_a_fast_validator():
    from clausewatch.policies.load import _CONTRACT_SCHEMA

    for schema in [_CONTRACT_SCHEMA, *(CHECKS.params_schema(n) for n in CHECKS.names())]:
        assert yaml_source.validators(schema).fast is not None
        assert yaml_source.validators(schema) is yaml_source.validators(schema)


def test_a_valid_document_skips_the_reference_validator(monkeypatch):
    doc = YamlDocument("c.yaml", {"a": 1}, yaml.compose("a: 1"), b"a: 1")
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    checker = yaml_source.validators(schema)
    class Refuse:
        def iter_errors(self, _):
            pytest.fail("the reference validator ran on a valid document")

    monkeypatch.setattr(checker, "reference", Refuse())
    assert schema_problems(doc, schema) == []


def test_a_problem_on_an_empty_value_is_located_as_pyyaml_locates_it():
    """libyaml places an empty value elsewhere; the message keeps PyYAML's place."""
    text = MINIMAL.replace("params: {period_days: 92}", "params: {period_days: }")
    assert problems(text) == [
        "c.yaml:14:26: commitments[0].params.period_days: None is not of type 'number'"
    ]
    path = ["commitments", 0, "params", "period_days"]
    fast = YamlDocument("c.yaml", None, fast_tree(text), b"").node_at(path).start_mark
    assert (fast.line + 1, fast.column + 1) == (14, 27)  # what libyaml alone would say


def test_a_file_with_a_tab_means_what_pyyaml_says():
    """libyaml accepts a tab inside a plain value; PyYAML refuses it, and so does the loader."""
    text = MINIMAL.replace("title: T", "title: T\tx")
    assert fast_tree(text) is not None
    assert problems(text) == [
        "c.yaml:3:11: invalid YAML: while scanning for the next token found character '\\t' "
        "that cannot start any token"
    ]


@pytest.mark.parametrize(
    ("pattern", "anchored"),
    [
        ("^[a-z]+$", "^[a-z]+\\Z"),
        ("^(a|b$)$", "^(a|b\\Z)\\Z"),
        ("^[$]+$", "^[$]+\\Z"),  # inside a class, $ is a character
        ("^[]$]$", "^[]$]\\Z"),  # ] first in a class is a character too
        ("^[^]$]$", "^[^]$]\\Z"),
        ("^\\$[0-9]+$", "^\\$[0-9]+\\Z"),  # an escaped $ is a character
        ("^a\\\\$", "^a\\\\\\Z"),  # an escaped backslash, then the anchor
        ("(Z|z)$", "(Z|z)\\Z"),
    ],
)
def test_dollar_anchors_mean_the_end_of_the_text(pattern, anchored):
    assert yaml_source.ecma_anchors(pattern) == anchored


def test_every_yaml_input_refuses_a_trailing_line_break_where_a_pattern_ends_in_dollar():
    """Python's $ matches before a final line break; JSON Schema's (ECMA-262) does not. The
    reference validator now agrees with ECMA and with jsonschema_rs (sources, alerts, ...)."""
    schema = {"type": "object", "properties": {"env": {"type": "string",
                                                       "pattern": "^[A-Z_]+$"}}}
    doc = read_yaml("s.yaml", raw=b'env: "TOKEN\\n"\n')
    assert [str(p) for p in schema_problems(doc, schema)] == [
        "s.yaml:1:6: env: 'TOKEN\\n' does not match '^[A-Z_]+$'"
    ]
    assert yaml_source.validators(schema).fast is not None
    assert not yaml_source.validators(schema).surely_valid({"env": "TOKEN\n"})
    assert schema_problems(read_yaml("s.yaml", raw=b"env: TOKEN\n"), schema) == []
