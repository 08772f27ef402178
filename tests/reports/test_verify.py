"""`clausewatch verify`: intact packs pass; any altered byte, wrong key, broken chain or edited
evidence fails, naming what differs."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from report_packs import build, keypair, write_raw

from clausewatch.cli import main
from clausewatch.reports.evidence_pack import sha256_file
from clausewatch.reports.verify import VERIFY_FAILED, Unreadable, verify


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    """A previous pack and a signed pack chained to it (built once; tests copy them)."""
    from report_case import build_case

    case = build_case()
    root = tmp_path_factory.mktemp("packs")
    key, _private, public = keypair(root)
    previous = build(case, root / "prev")
    pack = build(
        case, root / "cur", signing_key=key, previous=previous, raw_dir=write_raw(root / "raw")
    )
    return pack, previous, public


def copy(pack: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "pack"
    shutil.copytree(pack, dest)
    return dest


def text(result) -> str:
    return "\n".join(result.lines())


def test_intact_pack_verifies_with_key_and_previous(packs, capsys):
    pack, previous, public = packs
    result = verify(pack, public, previous)
    assert result.ok and result.exit_code == 0, text(result)
    assert [c.ok for c in result.checks] == [True, True, True, True]
    argv = ["verify", str(pack), "--public-key", str(public), "--previous", str(previous)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "VERIFIED" in out and "subject results reproduced" in out


def test_the_zip_verifies_too(packs):
    pack, previous, public = packs
    assert verify(pack.parent / "evidence-pack.zip", public, previous).ok


def _all_files(pack: Path) -> list[str]:
    return sorted(p.relative_to(pack).as_posix() for p in pack.rglob("*") if p.is_file())


def test_one_byte_changed_in_any_file_fails_and_names_it(packs, tmp_path):
    pack, previous, public = packs
    names = _all_files(pack)
    assert len(names) == 17
    for name in names:
        work = tmp_path / name.replace("/", "_")
        target = copy(pack, work)
        data = bytearray((target / name).read_bytes())
        data[len(data) // 2] ^= 0x01
        (target / name).write_bytes(bytes(data))
        result = verify(target, public, previous)
        assert result.exit_code == VERIFY_FAILED, name
        assert name in text(result), f"{name} not named:\n{text(result)}"


def test_a_wrong_key_fails_the_signature(packs, tmp_path):
    pack, previous, _public = packs
    _key, _private, other = keypair(tmp_path, "other")
    result = verify(pack, other, previous)
    assert result.exit_code == VERIFY_FAILED
    (signature,) = [c for c in result.checks if c.name.startswith("signature")]
    assert signature.ok is False and "not by the given key" in signature.notes[0]


def test_an_unsigned_pack_fails_when_a_key_is_given_and_is_unchecked_otherwise(packs, tmp_path):
    _pack, previous, public = packs
    assert verify(previous, public).exit_code == VERIFY_FAILED
    result = verify(previous)
    assert result.ok and "pack is not signed" in text(result)


def test_a_broken_chain_fails(packs, tmp_path):
    pack, previous, public = packs
    # the previous pack was altered after the fact
    other = copy(previous, tmp_path)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["run_id"] = "someone-else"
    (other / "manifest.json").write_text(json.dumps(manifest))
    result = verify(pack, public, other)
    assert result.exit_code == VERIFY_FAILED
    assert "previous manifest_sha256" in text(result)
    # and a pack is not its own predecessor
    assert "does not follow" in text(verify(pack, public, pack))


def test_edited_evidence_with_a_rehashed_manifest_is_caught_by_re_evaluation(packs, tmp_path):
    pack, previous, _public = packs
    forged = copy(pack, tmp_path)
    evidence = forged / "evidence/evidence.jsonl"
    lines = evidence.read_text().splitlines()
    bob = next(i for i, line in enumerate(lines) if '"subject": "bob@client.test"' in line)
    record = json.loads(lines[bob])
    record["facts"]["mfa_enforced"] = True
    lines[bob] = json.dumps(record, sort_keys=True)
    evidence.write_text("\n".join(lines) + "\n")
    manifest = json.loads((forged / "manifest.json").read_text())
    manifest["files"]["evidence/evidence.jsonl"] = sha256_file(evidence)
    (forged / "manifest.json").write_text(json.dumps(manifest, indent=2))
    chain = json.loads((forged / "chain.json").read_text())
    chain["manifest_sha256"] = sha256_file(forged / "manifest.json")
    (forged / "chain.json").write_text(json.dumps(chain, indent=2))
    (forged / "signature.json").unlink()  # the forger has no key

    result = verify(forged, previous=previous)
    hashes, signature, link, reeval = result.checks
    assert hashes.ok and link.ok and signature.ok is None, text(result)
    assert reeval.ok is False and result.exit_code == VERIFY_FAILED
    report = text(result)
    for name in ("results/results.json", "MFA-ADMINS", "bob@client.test"):
        assert name in report


def test_an_unreadable_pack_or_key_exits_2(packs, tmp_path, capsys):
    pack, _previous, _public = packs
    assert main(["verify", str(tmp_path / "missing")]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["verify", str(tmp_path / "empty")]) == 2
    (tmp_path / "bad.pem").write_text("not a key")
    assert main(["verify", str(pack), "--public-key", str(tmp_path / "bad.pem")]) == 2
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../escape.txt", "x")
    with pytest.raises(Unreadable, match="unsafe entry"):
        verify(evil)
    assert not (tmp_path.parent / "escape.txt").exists()
    assert "no such file" in capsys.readouterr().err


def test_verify_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["verify", "--help"])
    out = capsys.readouterr().out
    assert "5 a check failed" in out and "2 the pack or the key cannot be read" in out
