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
from clausewatch.reports.signing import render
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
    assert signature.ok is False and "which is not a trusted key" in signature.notes[0]


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
    bob = next(i for i, line in enumerate(lines)
               if json.loads(line).get("subject") == "bob@client.test")
    record = json.loads(lines[bob])
    record["facts"]["mfa_enforced"] = True
    lines[bob] = json.dumps(record, sort_keys=True)
    evidence.write_text("\n".join(lines) + "\n")
    manifest = json.loads((forged / "manifest.json").read_text())
    manifest["files"]["evidence/evidence.jsonl"] = sha256_file(evidence)
    (forged / "manifest.json").write_text(render(manifest))
    chain = json.loads((forged / "chain.json").read_text())
    chain["manifest_sha256"] = sha256_file(forged / "manifest.json")
    chain["signing"] = None  # the forger has no key
    (forged / "chain.json").write_text(render(chain))
    (forged / "signature.json").unlink()

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
    out = " ".join(out.split())
    assert "5 a check failed" in out and "2 the pack or the key cannot be read" in out
    assert "6 the pack is signed but no trusted key was given" in out
    assert "CLAUSEWATCH_TRUSTED_KEYS" in out


# --- trust: which key the signature must be by, and what is said without one ---------------


def _fingerprint(public: Path) -> str:
    from clausewatch.reports import signing

    return signing.fingerprint(signing.load_public_key(public))


def test_a_signed_pack_without_a_trusted_key_is_not_checked_and_exits_6(packs, capsys,
                                                                        monkeypatch):
    pack, previous, _public = packs
    monkeypatch.delenv("CLAUSEWATCH_TRUSTED_KEYS", raising=False)
    assert main(["verify", str(pack), "--previous", str(previous)]) == 6
    out = capsys.readouterr().out
    assert "signature present, not checked" in out and "\nVERIFIED" not in out
    assert out.splitlines()[-1].startswith("NOT VERIFIED (signature present, not checked")
    assert main(["verify", str(pack), "--integrity-only"]) == 0
    out = capsys.readouterr().out
    assert "VERIFIED (integrity only: signature present, not checked; no proof of origin)" in out


def test_an_unsigned_pack_says_integrity_only_and_fails_when_keys_are_trusted(
    packs, capsys, monkeypatch
):
    _pack, previous, public = packs
    monkeypatch.delenv("CLAUSEWATCH_TRUSTED_KEYS", raising=False)
    assert main(["verify", str(previous)]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == f"VERIFIED (unsigned: integrity only, no proof of origin): {previous}"
    monkeypatch.setenv("CLAUSEWATCH_TRUSTED_KEYS", _fingerprint(public))
    assert main(["verify", str(previous)]) == 5
    assert "trusted keys are configured ($CLAUSEWATCH_TRUSTED_KEYS)" in capsys.readouterr().out
    assert main(["verify", str(previous), "--integrity-only"]) == 0


def test_trusted_keys_from_the_environment_fingerprints_pems_and_files(packs, tmp_path, capsys,
                                                                       monkeypatch):
    pack, previous, public = packs
    fp = _fingerprint(public)
    argv = ["verify", str(pack), "--previous", str(previous)]
    for value in (fp, f"sha256:{fp.upper()}", f"{'0' * 64}, {public}", str(public)):
        monkeypatch.setenv("CLAUSEWATCH_TRUSTED_KEYS", value)
        assert main(argv) == 0, value
        assert f"VERIFIED (signed by trusted key {fp})" in capsys.readouterr().out
    keys = tmp_path / "keys" / "trusted.txt"
    keys.parent.mkdir()
    shutil.copy(public, keys.parent / "signer.pub.pem")
    keys.write_text("# the provider's nightly key\nsigner.pub.pem\n\n" + "a" * 64 + "  # old\n")
    monkeypatch.setenv("CLAUSEWATCH_TRUSTED_KEYS", str(keys))
    assert main(argv) == 0
    assert main([*argv, "--trusted-keys", str(keys)]) == 0
    # another key only: the genuine signature is by an untrusted key
    _k, _p, other = keypair(tmp_path, "other")
    monkeypatch.setenv("CLAUSEWATCH_TRUSTED_KEYS", _fingerprint(other))
    assert main(argv) == 5
    assert "which is not a trusted key ($CLAUSEWATCH_TRUSTED_KEYS" in capsys.readouterr().out
    # the command line replaces the environment
    assert main([*argv, "--public-key", str(public)]) == 0


def test_bad_trust_entries_exit_2_naming_them(packs, tmp_path, capsys, monkeypatch):
    pack, _previous, public = packs
    monkeypatch.setenv("CLAUSEWATCH_TRUSTED_KEYS", "deadbeef")
    assert main(["verify", str(pack)]) == 2
    assert "trusted key 'deadbeef': neither a SHA-256 fingerprint" in capsys.readouterr().err
    keys = tmp_path / "trusted.txt"
    keys.write_text("# nothing but comments\n")
    monkeypatch.setenv("CLAUSEWATCH_TRUSTED_KEYS", str(keys))
    assert main(["verify", str(pack)]) == 2
    assert "no trusted key found" in capsys.readouterr().err
    keys.write_text("nope.pem\n")
    assert main(["verify", str(pack)]) == 2
    assert f"{keys}:1:0: trusted key 'nope.pem'" in capsys.readouterr().err
    monkeypatch.delenv("CLAUSEWATCH_TRUSTED_KEYS")
    assert main(["verify", str(pack), "--public-key", str(public), "--integrity-only"]) == 2
    assert "--integrity-only checks no signature" in capsys.readouterr().err


def test_a_pack_after_a_signed_one_must_be_signed(packs, tmp_path):
    pack, _previous, public = packs
    # an unsigned pack chained to the signed one: a removed signature, caught by the link
    from report_case import build_case

    follower = build(build_case(), tmp_path / "next", previous=pack)
    result = verify(follower, previous=pack)
    assert result.exit_code == VERIFY_FAILED
    assert "the previous pack was signed by key" in text(result)
    # signed by a new key that is trusted: verified, and the key change is noted
    key, _private, newer = keypair(tmp_path, "newer")
    rotated = build(build_case(), tmp_path / "rotated", previous=pack, signing_key=key)
    from clausewatch.reports import signing

    trust = signing.trust_from([str(public), str(newer)], "test")
    result = verify(rotated, previous=pack, trust=trust)
    assert result.exit_code == 0, text(result)
    assert "signing key changed" in text(result)


def test_signed_fields_are_recorded_in_the_signed_chain(packs):
    pack, _previous, public = packs
    chain = json.loads((pack / "chain.json").read_text())
    signature = json.loads((pack / "signature.json").read_text())
    assert chain["format"] == "clausewatch-chain/2"
    assert chain["signing"]["public_key_sha256"] == _fingerprint(public)
    assert signature["public_key_sha256"] == chain["signing"]["public_key_sha256"]
    assert signature["format"] == "clausewatch-signature/2"
    assert set(signature) == {"format", "algorithm", "signed_files", "public_key_sha256",
                              "signature"}


def test_an_unsigned_pack_of_the_first_chain_format_still_verifies(packs, tmp_path):
    _pack, previous, _public = packs
    old = copy(previous, tmp_path)
    chain = json.loads((old / "chain.json").read_text())
    del chain["signing"]
    chain["format"] = "clausewatch-chain/1"
    (old / "chain.json").write_text(render(chain))
    result = verify(old)
    assert result.exit_code == 0 and result.verdict.startswith("VERIFIED (unsigned"), text(result)
    chain["format"] = "clausewatch-chain/9"
    (old / "chain.json").write_text(render(chain))
    assert "is not 'clausewatch-chain/2'" in text(verify(old))
