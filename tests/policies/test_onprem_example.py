"""The French on-premises example contract validates, and says what the issue asks of it."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml

from clausewatch.checks import CHECKS
from clausewatch.cli import main
from clausewatch.collectors.catalogue import CATALOGUE, source_module
from clausewatch.policies.load import load_contract

EXAMPLES = Path(__file__).resolve().parents[2] / "policies" / "examples"
CONTRACT = EXAMPLES / "contrat-infogerance-onprem.yaml"
SOURCES = EXAMPLES / "sources-onprem.yaml"


def test_the_onprem_contract_validates(capsys):
    assert main(["validate", str(CONTRACT)]) == 0
    assert "6 commitment(s)" in capsys.readouterr().out


def test_the_onprem_contract_covers_the_onprem_commitments():
    k = load_contract(CONTRACT, CHECKS)
    assert (k.language, str(k.timezone)) == ("fr", "Europe/Paris")
    assert all(c.clause.startswith("PAS §") for c in k.commitments)
    by = {c.id: c for c in k.commitments}
    windows, linux = by["PAS-4.1-correctifs-windows"], by["PAS-4.2-correctifs-linux"]
    assert windows.check == linux.check == "patch_lag"
    assert windows.scope.sources == ("defender",) and linux.scope.sources == ("wazuh",)
    assert by["PAS-5.1-sauvegarde-vm"].params["accept_warning"] is True
    assert "accept_warning" not in by["PAS-5.2-sauvegarde-physiques"].params
    surebackup, pra = by["PAS-5.3-surebackup"], by["PAS-6.1-exercice-pra"]
    assert (surebackup.evidence, surebackup.params["period_days"]) == ("automated", 92)
    assert (pra.evidence, pra.params["period_days"]) == ("attested", 366)
    assert pra.scope.sources == ("attestations",)


def test_the_onprem_sources_entries_of_registered_types_are_valid():
    """defender and wazuh are built alongside: their entries are checked once registered."""
    sections = yaml.safe_load(SOURCES.read_text(encoding="utf-8"))["sources"]
    assert {"defender", "wazuh", "veeam", "attestations"} == set(sections)
    for name, entries in sections.items():
        if name not in CATALOGUE:
            continue
        module = source_module(name)
        for entry in entries:
            jsonschema.validate(entry, module.ENTRY_SCHEMA)
            assert not list(getattr(module, "entry_problems", lambda e: [])(entry))
