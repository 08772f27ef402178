"""The gettext catalogues: complete, compiled, extractable; plurals and formats per locale."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from clausewatch.core.i18n import LOCALES, Catalogue
from clausewatch.core.messages import MESSAGES, PLURALS

PO = LOCALES / "fr" / "LC_MESSAGES" / "clausewatch.po"
MO = LOCALES / "fr" / "LC_MESSAGES" / "clausewatch.mo"


def test_french_catalogue_is_complete_and_the_mo_is_compiled_from_it():
    catalog = read_po(PO.open("rb"))
    ids = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    for key, text in MESSAGES.items():
        assert text in ids and ids[text].string, key
    for key, (one, _) in PLURALS.items():
        assert one in ids and all(ids[one].string), key
    assert catalog.num_plurals == 2 and catalog.plural_expr == "(n > 1)"
    buf = io.BytesIO()
    write_mo(buf, catalog)
    assert MO.read_bytes() == buf.getvalue(), "run: pybabel compile -d core/locales -D clausewatch"


def test_babel_extracts_every_message_from_the_source():
    source = Path(LOCALES).parent / "messages.py"
    found = {m[1] if isinstance(m[1], str) else m[1][0] for m in extract_from_file(
        "python", str(source), keywords={"N_": (1,), "Nn_": (1, 2)})}
    assert set(MESSAGES.values()) <= found
    assert {one for one, _ in PLURALS.values()} <= found


def test_plurals_numbers_money_dates():
    fr, en = Catalogue("fr"), Catalogue("en")
    assert fr.count("n_updates", 0) == "0 correctif" and fr.count("n_updates", 1) == "1 correctif"
    assert fr.count("n_updates", 2) == "2 correctifs" and en.count("n_updates", 0) == "0 updates"
    assert fr.count("period_nights_n", 0) == "0 nuit"
    assert fr.percent(0.875) == "87,5\u00a0%" and en.percent(0.875) == "87.5%"
    assert fr.money(4650, "EUR") == "4\u202f650\u00a0€" and en.money(4650, "EUR") == "€4,650"
    assert fr.day(date(2026, 11, 1)) == "1er novembre 2026"
    assert fr.decimal(1234.5) == "1\u202f234,5"


def test_reasons_render_from_id_and_params():
    class R:
        reason = "srv: 2 security update(s) past deadline; worst KB1 (critical) 3 days late."
        reason_id = "patch_lag.overdue"
        reason_params = {"label": "srv", "n": 2, "update": "KB1", "days_late": 3, "late": "",
                         "severity": {"id": "severity.critical", "params": {}, "text": "critical"}}

    text = Catalogue("fr").reason(R())
    assert text.startswith("srv\u00a0: 2 correctifs de sécurité hors délai\u202f; le pire, KB1")
    assert "gravité critique" in text
    assert Catalogue("en").reason(R()) == R.reason  # English keeps the check's sentence
    R.reason_id = "no.such.id"
    assert Catalogue("fr").reason(R()) == R.reason  # unknown id: the English sentence
