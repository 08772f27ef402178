"""Mutation fuzzing of the shipped YAML examples: ``validate`` never raises anything but
``InputError``, every problem is located, and an accepted contract evaluates without a
traceback and without a non-finite number in its verdicts.

The same mutants check that the fast paths agree with the reference ones: libyaml's tree is
PyYAML's tree, the one-pass construction is PyYAML's construction, and jsonschema_rs never
accepts what jsonschema refuses.

Seeded and quick by default (``MUTANTS`` mutants); for a long run by hand:

    CLAUSEWATCH_MUTANTS=10000 pytest -q tests/policies/test_mutants.py -s
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import AS_OF, REPO, asset, days_ago, ev, identity, patch

from clausewatch.checks import CHECKS
from clausewatch.checks.engine import evaluate
from clausewatch.commands import validate
from clausewatch.core.problems import InputError
from clausewatch.policies.load import _CONTRACT_SCHEMA, load_contract
from clausewatch.policies.yaml_source import _CLoader, _construct, _Loader, validators

MUTANTS = int(os.environ.get("CLAUSEWATCH_MUTANTS", "300"))
EXAMPLES = sorted((REPO / "policies" / "examples").glob("*.yaml"))
TEXTS = [(p.name, p.read_text(encoding="utf-8")) for p in EXAMPLES]

VALUES = [
    ".nan", ".NaN", "-.nan", ".inf", "-.inf", "+.Inf", "1e400", "1.0e+400", "-1.0e+400",
    "9" * 4300, "9" * 4301, "-" + "9" * 5000, "0x" + "f" * 80, "0o777", "0b101", "1_000",
    "1:30:00", "-1", "0", "-0.0", "1e30", "1.0e+30", "5.0e-324", "1.0e+308", "87601", "3651",
    "null", "~", "yes", "no", "on", "true", "[]", "{}", "[1, 2]", "{a: 1}", "[[[[]]]]",
    '"9999-12-31"', '"0001-01-01"', '"2026-02-30"', '"2999-12-31"', '"3000-01-01"', "2026-01-01",
    "!!binary aGk=", "!!set {a}", "!!timestamp 2026-01-01", "!!int abc", "!!float x",
    "!!bool maybe", "!!str 3", "!!python/name:os.system", "!!omap [a: 1]", "!foo bar",
    "&a x", "*a", "*undefined", '"id\\n"', '"c1\\n"', '"100.9%"', '"100%"', '"0%"', '"95 %"',
    '"\\x07"', '"\\ud800"', '"\\0"', "'\t'", '"' + "x" * 3000 + '"', "=", "<<", "? a", "|", ">",
    "-", "'", '"', "%", "@", "`", "\x07", "\x85", "\ufeff", "é", "critical", "Europe/Pariss",
    "enforced_and_registered", "Europe", "../../etc", "a" * 300,
]
KEYS = ["1", "2.5", "yes", "~", "null", "[a]", "{a: 1}", "? [a, b]", '"<<"', "<<", "=",
        "colour", "x", "critical", "4", "true", "!!binary aGk=", "'id'", "&k key", "*k"]


def mutate(text: str, rng: random.Random) -> str:
    """One to three random edits of a YAML text (values, keys, bytes, lines, indentation)."""
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(9)
        i = rng.randrange(len(lines))
        line = lines[i]
        if op == 0 and ":" in line:  # replace a value
            head = line[: line.index(":") + 1]
            lines[i] = f"{head} {rng.choice(VALUES)}"
        elif op == 1 and ":" in line:  # replace a key
            indent = line[: len(line) - len(line.lstrip(" -"))]
            lines[i] = f"{indent}{rng.choice(KEYS)}:{line.split(':', 1)[1]}"
        elif op == 2:  # insert a character
            at = rng.randrange(len(line) + 1)
            char = rng.choice(["\x00", "\x07", "\x1b", "\t", "\x7f", "\x85", "\ufffe", "\ud7ff",
                               "'", '"', "[", "{", "&", "*", "!", "|", "%", "#", ":", "-", " "])
            lines[i] = line[:at] + char + line[at:]
        elif op == 3:  # delete a character
            if line:
                at = rng.randrange(len(line))
                lines[i] = line[:at] + line[at + 1:]
        elif op == 4:  # duplicate a line
            lines.insert(i, line)
        elif op == 5:  # swap two lines
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 6:  # re-indent
            lines[i] = (" " * rng.randint(0, 3) + line.lstrip()) if rng.random() < 0.5 else \
                line[rng.randint(1, 2):]
        elif op == 7:  # insert a line of a random key and value
            indent = line[: len(line) - len(line.lstrip(" "))]
            lines.insert(i, f"{indent}{rng.choice(KEYS)}: {rng.choice(VALUES)}")
        else:  # truncate
            lines = lines[: i + 1]
            lines[-1] = lines[-1][: rng.randrange(len(lines[-1]) + 1)]
    return "\n".join(lines)


def as_bytes(text: str, rng: random.Random) -> bytes:
    raw = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.05:  # a byte that is not UTF-8
        at = rng.randrange(len(raw) + 1)
        raw = raw[:at] + bytes([rng.choice([0x80, 0x92, 0xC3, 0xE9, 0xFF])]) + raw[at:]
    return raw


EVIDENCE = [
    asset("srv-1", tags={"env": "prod", "role": "fileserver", "restore_test": "required"},
          os="Windows Server", patch_assessed_at=days_ago(0, 2)),
    asset("db-1", "database", tags={"env": "prod", "restore_test": "required"}, os="Linux"),
    asset("ws-1", "workstation", os="Windows", patch_assessed_at=days_ago(1)),
    patch("srv-1", "KB1", "critical", "missing", released_at=days_ago(30)),
    patch("ws-1", "KB2", "important", "installed", released_at=days_ago(9),
          installed_at=days_ago(2)),
    ev("backup", "db-1", {"outcome": "success", "completed_at": days_ago(0, 5)}),
    ev("backup", "srv-1", {"outcome": "failed", "completed_at": days_ago(0, 5)}),
    ev("restore_test", "db-1", {"outcome": "success", "completed_at": days_ago(40),
                                "duration_minutes": 30, "method": "tool"}),
    identity("alice"), identity("bob", mfa_enforced=False, privileged=True),
    identity("carol", mfa_registered=None),
]


def _finite_json(value: Any) -> None:
    json.dumps(value, allow_nan=False, default=str)


def run_one(path: Path, raw: bytes, stats: Counter[str]) -> None:
    """Validate one mutant as the command does; evaluate it when it is an accepted contract."""
    path.write_bytes(raw)
    try:
        validate.run(argparse.Namespace(files=[path]))
    except InputError as exc:
        stats["refused"] += 1
        assert exc.problems
        for p in exc.problems:
            assert p.file == str(path) and p.line >= 1 and p.col >= 1 and p.message, p
        return
    stats["accepted"] += 1
    try:
        contract = load_contract(path, CHECKS)
    except InputError:
        stats["sources"] += 1  # an accepted sources file
        return
    run = evaluate(contract, EVIDENCE, [], AS_OF)
    for o in run.outcomes:
        v = o.verdict
        _finite_json([v.measured, v.target])
        assert v.target is not None and math.isfinite(v.target)


def tree(root: yaml.Node) -> list[tuple[object, ...]]:
    """Every node's kind, tag, position and value (or size), depth first. Empty values have
    no position here: the parsers place them differently (``YamlDocument.problem`` locates
    them from PyYAML's tree)."""
    out: list[tuple[object, ...]] = []
    stack = [root]
    while stack:
        n = stack.pop()
        empty = isinstance(n, yaml.ScalarNode) and n.value == "" and not n.style
        where = (None, None) if empty else (n.start_mark.line, n.start_mark.column)
        out.append((type(n).__name__, n.tag, *where,
                    n.value if isinstance(n, yaml.ScalarNode) else len(n.value)))
        if isinstance(n, yaml.MappingNode):
            stack.extend(x for pair in n.value for x in pair)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return out


def compare_fast_and_reference(text: str, stats: Counter[str]) -> None:
    """libyaml and PyYAML agree on the tree; construction and validation agree too."""
    if yaml.reader.Reader.NON_PRINTABLE.search(text):
        stats["unprintable (refused before parsing)"] += 1
        return
    if "\t" in text:
        stats["tab (read by the reference parser alone)"] += 1
        return
    fast, ref = _CLoader(text), _Loader(text)
    try:
        try:
            fast_root = fast.get_single_node()
        except Exception:  # noqa: BLE001 - whatever libyaml refuses, PyYAML words the error
            fast_root = "refused"
        try:
            ref_root = ref.get_single_node()
        except Exception:  # noqa: BLE001
            ref_root = "refused"
        if fast_root == "refused" or ref_root == "refused" or fast_root is None:
            fast_says = "refused" if fast_root == "refused" else "accepted"
            ref_says = "refused" if ref_root == "refused" else "accepted"
            stats[f"parse: fast {fast_says}, reference {ref_says}"] += 1
            # the dangerous case: libyaml accepts what PyYAML refuses
            assert not (fast_root not in ("refused", None) and ref_root == "refused"), text
            return
        assert tree(fast_root) == tree(ref_root), text
        stats["parse: same tree"] += 1
        try:
            data = ref.construct_document(ref_root)
        except Exception:  # noqa: BLE001 - refused by the reference: nothing to compare
            return
        assert _construct(ref_root, fast) == data
        stats["construction: same data"] += 1
        pairs = [(_CONTRACT_SCHEMA, data)]
        items = data.get("commitments") if isinstance(data, dict) else None
        for c in items if isinstance(items, list) else []:
            check = c.get("check") if isinstance(c, dict) else None
            if isinstance(check, str) and check in CHECKS and "params" in c:
                pairs.append((CHECKS.params_schema(c["check"]), c["params"]))
        for schema, instance in pairs:
            checker = validators(schema)
            reference_valid = not any(True for _ in checker.reference.iter_errors(instance))
            if checker.surely_valid(instance):
                assert reference_valid, text  # jsonschema_rs never accepts what jsonschema refuses
                stats["schema: both accept"] += 1
            elif reference_valid:
                stats["schema: fast refused, reference accepted"] += 1
            else:
                stats["schema: both refuse"] += 1
    finally:
        fast.dispose()
        ref.dispose()


def test_validate_never_raises_anything_but_input_error(tmp_path, capsys):
    rng = random.Random(20261122)
    stats: Counter[str] = Counter()
    for n in range(MUTANTS):
        name, text = TEXTS[n % len(TEXTS)]
        raw = as_bytes(mutate(text, rng), rng)
        try:
            run_one(tmp_path / name, raw, stats)
        except Exception as exc:
            stats["tracebacks"] += 1
            if MUTANTS <= 1000:
                raise AssertionError(f"mutant {n} of {name}:\n{raw.decode(errors='replace')}") \
                    from exc
            print(f"TRACEBACK mutant {n} of {name}: {type(exc).__name__}: {exc}")
    capsys.readouterr()
    with capsys.disabled():
        if MUTANTS > 1000:
            print(f"\n{MUTANTS} mutants: {dict(stats)}")
    assert stats["tracebacks"] == 0
    assert stats["refused"] > MUTANTS / 3 and stats["accepted"] > MUTANTS / 20


def test_fast_paths_agree_with_the_reference_on_mutants():
    rng = random.Random(7)
    stats: Counter[str] = Counter()
    for n in range(MUTANTS):
        _name, text = TEXTS[n % len(TEXTS)]
        text = mutate(text, rng)
        compare_fast_and_reference(text, stats)
    if MUTANTS > 1000:
        print(f"\n{MUTANTS} mutants compared: {dict(stats)}")


#: Source types an example names before they are registered (built on other branches of issue
#: 13); once registered the skip below never applies.
PENDING_SOURCES = frozenset({"defender", "wazuh"})


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_accepted_by_the_mutation_runner(tmp_path, path, capsys):
    from clausewatch.collectors.catalogue import CATALOGUE

    sections = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("sources") or {}
    pending = set(sections) - set(CATALOGUE)
    if pending and pending <= PENDING_SOURCES:
        pytest.skip(f"{path.name} names source types not registered yet: {sorted(pending)}")
    stats: Counter[str] = Counter()
    run_one(tmp_path / path.name, path.read_bytes(), stats)
    assert stats["accepted"] == 1
