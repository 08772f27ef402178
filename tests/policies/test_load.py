"""The contract loader: valid, malformed and hostile files, with the exact messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import FIXTURES, REPO

from clausewatch.checks import CHECKS
from clausewatch.core.contract import Party
from clausewatch.core.problems import InputError
from clausewatch.policies.load import load_contract, parse_target
from clausewatch.policies.yaml_source import MAX_BYTES

EXAMPLES = sorted((REPO / "policies" / "examples").glob("*.yaml"))
MINIMAL = """\
contract:
  id: k
  title: T
  provider: P
  customer: C
  effective_from: "2026-01-01"
  timezone: Europe/Paris
commitments:
  - id: c1
    clause: "§1"
    title: t
    check: restore_test
    responsible: provider
    params: {period_days: 92}
    target: 95%
"""


def problems(tmp_path: Path, text: str | bytes, name: str = "c.yaml") -> list[str]:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    with pytest.raises(InputError) as info:
        load_contract(path, CHECKS, name=name)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("path", [p for p in EXAMPLES if "sources" not in p.name],
                         ids=lambda p: p.name)
def test_shipped_examples_load(path):
    contract = load_contract(path, CHECKS)
    assert contract.commitments
    assert all(c.check in CHECKS for c in contract.commitments)


def test_french_example_is_an_infogerance_contract_with_pas_clauses():
    k = load_contract(REPO / "policies/examples/infogerance-fr.yaml", CHECKS)
    assert k.language == "fr" and k.timezone.key == "Europe/Paris"
    assert all(c.clause.startswith("PAS §") for c in k.commitments)
    patch = k.commitment("PAS-4.2-patch-prod")
    assert patch.params["deadlines_days"] == {"critical": 7, "important": 30}
    assert patch.responsible is Party.PROVIDER and patch.target == 1.0
    text = (REPO / "policies/examples/infogerance-fr.yaml").read_text().splitlines()
    assert text[patch.source_line - 1] == "  - id: PAS-4.2-patch-prod"


def test_minimal_contract_and_percent_target(tmp_path):
    path = tmp_path / "k.yaml"
    path.write_text(MINIMAL)
    k = load_contract(path, CHECKS)
    assert k.commitments[0].target == pytest.approx(0.95)
    assert len(k.digest) == 64
    assert parse_target("100%") == 1.0 and parse_target(0.5) == 0.5


def test_every_problem_of_a_bad_file_is_reported_with_line_and_column():
    with pytest.raises(InputError) as info:
        load_contract(FIXTURES / "policies/bad.yaml", CHECKS, name="bad.yaml")
    got = [str(p) for p in info.value.problems]
    (colour,) = [p for p in got if "colour" in p]
    assert colour.startswith("bad.yaml:30:5: commitments[2].colour: unknown key(s) 'colour' "
                             "(allowed: check, clause, description, evidence, id, params")
    assert [p for p in got if p != colour] == [
        "bad.yaml:6:19: contract.effective_from: '2026-02-30' is not a 'date'",
        "bad.yaml:8:13: contract.timezone: unknown time zone 'Europe/Pariss' (use an IANA name "
        "such as Europe/Paris)",
        "bad.yaml:13:12: commitments[0].check: unknown check 'patch_lagg'; did you mean "
        "'patch_lag'? (known: backup_freshness, mfa_coverage, patch_lag, restore_test)",
        "bad.yaml:16:9: commitments[1].id: duplicate commitment id 'c1' (first on line 10)",
        "bad.yaml:20:18: commitments[1].responsible: 'vendor' is not one of ['provider', "
        "'customer', 'shared']",
        "bad.yaml:21:13: commitments[1].target: 1.5 is greater than the maximum of 1",
        "bad.yaml:22:23: commitments[1].params.require: 'always' is not one of ['enforced', "
        "'registered', 'enforced_and_registered']",
        "bad.yaml:22:31: commitments[1].params.extra: unknown key(s) 'extra' (allowed: "
        "freshness_days, grace_days, require)",
        "bad.yaml:29:25: commitments[2].params.rpo_hours: -3 is less than or equal to the "
        "minimum of 0",
        "bad.yaml:32:17: waivers[0].commitment: waiver for unknown commitment 'c4'",
        "bad.yaml:36:14: waivers[0].expires: waiver expires 2026-01-01, before it was granted "
        "2026-06-01",
    ]


def test_inverted_contract_dates(tmp_path):
    text = MINIMAL.replace('effective_from: "2026-01-01"',
                           'effective_from: "2026-01-01"\n  effective_to: "2025-12-31"')
    assert problems(tmp_path, text) == [
        "c.yaml:7:17: contract.effective_to: effective_to 2025-12-31 is before effective_from "
        "2026-01-01"
    ]


def test_wrong_types(tmp_path):
    text = MINIMAL.replace("period_days: 92", "period_days: quarterly").replace(
        "title: t", "title: [not, text]")
    assert problems(tmp_path, text) == [
        "c.yaml:11:12: commitments[0].title: ['not', 'text'] is not of type 'string'",
        "c.yaml:14:27: commitments[0].params.period_days: 'quarterly' is not of type 'number'",
    ]


def test_missing_required_keys(tmp_path):
    assert problems(tmp_path, MINIMAL.replace("    responsible: provider\n", "")) == [
        "c.yaml:9:5: commitments[0]: 'responsible' is required"
    ]


def test_duplicate_keys_are_refused_not_silently_overwritten(tmp_path):
    text = MINIMAL.replace("    target: 95%\n", "    target: 95%\n    target: 50%\n")
    assert problems(tmp_path, text) == [
        "c.yaml:16:5: duplicate key 'target' (first defined on line 15)"
    ]


def test_malformed_yaml(tmp_path):
    assert problems(tmp_path, "contract: [unclosed\n") == [
        "c.yaml:2:1: invalid YAML: while parsing a flow sequence expected ',' or ']', but got "
        "'<stream end>'"
    ]


def test_not_a_mapping(tmp_path):
    assert problems(tmp_path, "- just\n- a list\n") == [
        "c.yaml:1:1: the file must be a mapping (contract:, commitments:)"
    ]


def test_empty_file(tmp_path):
    assert problems(tmp_path, "# nothing\n") == ["c.yaml:1:1: file is empty"]


def test_alias_bomb_is_refused_before_expansion(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for n in "bcdefghi":
        lines.append(f"{n}: &{n} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = n
    assert problems(tmp_path, "\n".join(lines)) == [
        "c.yaml:1:1: document expands to more than 200000 nodes (anchors and aliases repeated "
        "too often)"
    ]


def test_huge_file_is_refused_unread(tmp_path):
    assert problems(tmp_path, "# " + "x" * MAX_BYTES) == [
        f"c.yaml:1:1: file is {MAX_BYTES + 2} bytes, over the {MAX_BYTES}-byte limit"
    ]


def test_deep_nesting_is_refused(tmp_path):
    assert problems(tmp_path, "a: " + "[" * 5000 + "]" * 5000) == [
        "c.yaml:1:1: invalid YAML: nested too deeply"
    ]


def test_wrong_encodings(tmp_path):
    latin1 = MINIMAL.replace("title: T", "title: Caf\u00e9").encode("latin-1")
    assert problems(tmp_path, latin1) == [
        "c.yaml:3:13: not UTF-8: byte 0xe9 cannot be decoded; save the file as UTF-8"
    ]
    assert problems(tmp_path, MINIMAL.encode("utf-16")) == [
        "c.yaml:1:1: file is UTF-16; save it as UTF-8"
    ]


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_contract(path, CHECKS).id == "k"


def test_python_tags_are_not_executed(tmp_path):
    text = MINIMAL.replace("title: T", "title: !!python/object/apply:os.system ['true']")
    (msg,) = problems(tmp_path, text)
    assert msg.startswith("c.yaml:3:10: invalid YAML: could not determine a constructor")


def test_missing_file():
    with pytest.raises(InputError) as info:
        load_contract("/nonexistent/contract.yaml", CHECKS)
    assert str(info.value) == (
        "/nonexistent/contract.yaml:0:0: cannot read: No such file or directory"
    )
