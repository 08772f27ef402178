"""The evidence pack: layout, manifest, chain, signature, redaction, zip, atomic writing."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from report_case import ACCESS_TOKEN, AS_OF, CLIENT_SECRET
from report_packs import RAW_BEARER, RAW_SECRET, build, keypair, write_raw

from clausewatch.reports import evidence_pack
from clausewatch.reports.evidence_pack import PackError, latest_pack, sha256_file
from clausewatch.reports.formats import FORMATS

SECRETS = (CLIENT_SECRET, ACCESS_TOKEN, RAW_SECRET)


@pytest.fixture
def signed(case, tmp_path):
    key, private, public = keypair(tmp_path)
    raw = write_raw(tmp_path / "raw-src")
    pack = build(case, tmp_path / "out", signing_key=key, secrets=SECRETS, raw_dir=raw)
    return pack, key, private, public


def test_layout_manifest_and_reports(signed, case):
    pack, *_ = signed
    files = sorted(p.relative_to(pack).as_posix() for p in pack.rglob("*") if p.is_file())
    expected = {
        "README.md", "run.json", "contract/contract.yaml", "contract/contract.yaml.sha256",
        "evidence/evidence.jsonl", "results/results.json", "results/waivers-in-force.json",
        "raw/entra/users-0001.json", "raw/entra/note.txt", "manifest.json", "chain.json",
        "signature.json", *(f"reports/{name}" for name in FORMATS.file_names()),
    }  # fmt: skip
    assert set(files) == expected
    manifest = json.loads((pack / "manifest.json").read_text())
    assert set(manifest["files"]) == expected - {"manifest.json", "chain.json", "signature.json"}
    for rel, digest in manifest["files"].items():
        assert sha256_file(pack / rel) == digest
    contract = (pack / "contract/contract.yaml").read_bytes()
    assert contract == case.contract_path.read_bytes()
    digest = (pack / "contract/contract.yaml.sha256").read_text().split()[0]
    assert digest == case.ev.contract.digest
    readme = (pack / "README.md").read_text()
    # in the contract's language only (French here): a French auditor reads French
    assert readme.startswith("# Paquet de preuves ClauseWatch\n") and "clausewatch verify" in readme
    assert "## Vérifier le paquet" in readme and "How to verify" not in readme
    waivers = json.loads((pack / "results/waivers-in-force.json").read_text())
    assert [w["reference"] for w in waivers] == ["DER-1"]


def test_run_metadata_names_sources_endpoints_identities_and_host(signed, case):
    pack, key, *_ = signed
    run = json.loads((pack / "run.json").read_text())
    assert run["as_of"] == "2026-11-22T06:00:00Z" and run["tool_version"] == "0.1.0"
    assert run["started_at"] == "2026-11-22T06:00:00Z"
    assert run["finished_at"] == "2026-11-22T06:00:42Z"
    endpoints = {s["source"]: (s["endpoint"], s["identity"]) for s in run["sources"]}
    assert endpoints["entra"] == ("https://graph.microsoft.com/v1.0", "app 7d0c-clausewatch-reader")
    assert run["sources"][0]["client_secret"] == "[REDACTED]"
    assert run["host"]["hostname"] == "auditor-test"
    assert run["evidence"]["by_source"]["aws.backup"]["errors"] == 1
    assert run["signing"]["public_key_sha256"] == evidence_pack.signing.fingerprint(
        key.public_key()
    )


def test_no_configured_secret_appears_anywhere_in_the_pack_or_its_zip(signed, tmp_path):
    pack, _key, private, _ = signed
    key_body = "".join(
        line for line in private.read_text().splitlines() if not line.startswith("-----")
    )
    needles = [*SECRETS, RAW_BEARER, key_body]
    blobs = {p.relative_to(pack).as_posix(): p.read_bytes() for p in pack.rglob("*") if p.is_file()}
    with zipfile.ZipFile(pack.parent / "evidence-pack.zip") as zf:
        blobs |= {f"zip:{n}": zf.read(n) for n in zf.namelist()}
    for out_file in pack.parent.iterdir():
        if out_file.is_file():
            blobs[f"out:{out_file.name}"] = out_file.read_bytes()
    for name, blob in blobs.items():
        for needle in needles:
            assert needle.encode() not in blob, f"secret leaked into {name}"
    page = json.loads((pack / "raw/entra/users-0001.json").read_text())
    assert page["request"]["headers"]["Authorization"] == "[REDACTED]"
    assert page["value"][0]["passwordLastUsed"] == "x"  # metadata, not a secret


def test_a_secret_in_the_evidence_aborts_the_pack_and_leaves_nothing(case, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(PackError, match="would leak into"):
        build(case, out, secrets=("srv-legacy",))  # a value the evidence holds
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_chain_links_each_pack_to_the_previous_one(case, tmp_path):
    first = build(case, tmp_path / "one")
    second = build(case, tmp_path / "two", previous=first)
    c1 = json.loads((first / "chain.json").read_text())
    c2 = json.loads((second / "chain.json").read_text())
    assert c1["sequence"] == 1 and c1["previous"] is None
    assert c1["manifest_sha256"] == sha256_file(first / "manifest.json")
    assert c2["sequence"] == 2
    assert c2["previous"]["manifest_sha256"] == sha256_file(first / "manifest.json")
    assert c2["previous"]["chain_sha256"] == sha256_file(first / "chain.json")


def test_history_folder_chains_to_the_newest_and_archives_the_new_pack(case, tmp_path):
    history = tmp_path / "history"
    build(case, tmp_path / "a", history=history)
    build(case, tmp_path / "b", history=history)
    build(case, tmp_path / "b", history=history)  # a second run into the same folder
    packs = sorted(p.name for p in history.iterdir())
    assert packs == [f"evidence-pack-2026-11-22-000{n}.zip" for n in (1, 2, 3)]
    latest = latest_pack(history)
    assert latest is not None and latest.name == packs[-1]
    with evidence_pack.open_pack(latest) as root:
        chain = json.loads((root / "chain.json").read_text())
    assert chain["sequence"] == 3
    assert chain["previous"]["ref"] == packs[1]  # the pack it points to is still there
    assert evidence_pack.read_link(history / packs[1]).manifest_sha256 == \
        chain["previous"]["manifest_sha256"]
    first = (history / packs[0]).read_bytes()
    # keeping the same pack again (a publication completed after a kill) changes nothing
    evidence_pack.archive_pack(tmp_path / "a" / "evidence-pack", history, "r", AS_OF)
    # another pack under a kept pack's name (sequence 1 again, signed differently) is refused
    other = build(case, tmp_path / "c", signing_key=keypair(tmp_path)[0])
    with pytest.raises(PackError, match="never replaced"):
        evidence_pack.archive_pack(other, history, "r", AS_OF)
    assert (history / packs[0]).read_bytes() == first
    assert sorted(p.name for p in history.iterdir()) == packs


def test_zip_is_reproducible_and_holds_the_folder(signed, tmp_path):
    pack, *_ = signed
    again = tmp_path / "again.zip"
    evidence_pack.zip_pack(pack, again, AS_OF)
    assert again.read_bytes() == (pack.parent / "evidence-pack.zip").read_bytes()
    names = zipfile.ZipFile(again).namelist()
    assert "evidence-pack/manifest.json" in names and len(names) == 17


def test_a_failed_publish_never_corrupts_the_earlier_pack(case, tmp_path, monkeypatch):
    out = tmp_path / "out"
    pack = build(case, out)
    before = {p: p.read_bytes() for p in pack.rglob("*") if p.is_file()}

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("clausewatch.reports.pack_zip.PackZip._member", boom)
    with pytest.raises(OSError):
        build(case, out)
    assert {p: p.read_bytes() for p in pack.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_the_private_key_never_enters_the_pack(signed):
    pack, key, private, _ = signed
    names = [p.name for p in pack.rglob("*")]
    assert private.name not in names
    sig = json.loads((pack / "signature.json").read_text())
    assert sig["algorithm"] == "Ed25519" and sig["signed_files"] == ["manifest.json", "chain.json"]
    assert isinstance(Path(pack / "signature.json"), Path)
