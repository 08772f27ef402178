"""An evidence pack an auditor can rely on: ``keygen``, nightly packs kept with their chain
link, "VERIFIED (unsigned)" for an unsigned pack, a README naming only what the pack holds."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from report_packs import build, write_raw
from test_cli import AS_OF, CONTRACT, asset_line, patch_line

from clausewatch.cli import main
from clausewatch.reports import signing
from clausewatch.reports.evidence_pack import open_pack, read_link

ROW = re.compile(r"^\| `([^`]+)` \|", re.M)


def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CLAUSEWATCH_SIGNING_KEY_PASSWORD", raising=False)
    key = tmp_path / "keys" / "night.pem"
    assert main(["keygen", "--out", str(key)]) == 0
    out = capsys.readouterr().out
    public = tmp_path / "keys" / "night.pub.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    fp = signing.fingerprint(signing.load_public_key(public))
    assert f"fingerprint: {fp}" in out
    assert signing.fingerprint(signing.load_private_key(key).public_key()) == fp
    before = key.read_bytes(), public.read_bytes()
    assert main(["keygen", "--out", str(key)]) == 2  # never overwrites
    assert "already exists" in capsys.readouterr().err
    assert (key.read_bytes(), public.read_bytes()) == before
    public.unlink()
    assert main(["keygen", "--out", str(key)]) == 2  # the private key alone is enough to refuse
    assert key.read_bytes() == before[0] and not public.exists()


def test_keygen_encrypts_with_the_password_run_reads(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CLAUSEWATCH_SIGNING_KEY_PASSWORD", "correct horse")
    key = tmp_path / "k.pem"
    assert main(["keygen", "--out", str(key)]) == 0
    assert b"ENCRYPTED PRIVATE KEY" in key.read_bytes()
    assert signing.load_private_key(key, b"correct horse") is not None
    assert "correct horse" not in capsys.readouterr().out


def nightly(tmp_path: Path, key: Path, as_of: str) -> int:
    policy = tmp_path / "contract.yaml"
    policy.write_text(CONTRACT)
    evidence = tmp_path / "e.jsonl"
    evidence.write_text(asset_line("s1") + "\n" + patch_line("s1", "2026-11-01T00:00:00Z") + "\n")
    return main(["evaluate", "--policy", str(policy), "--evidence", str(evidence), "--as-of",
                 as_of, "--out", str(tmp_path / "out"), "--signing-key", str(key),
                 "--pack-history", str(tmp_path / "packs")])


def test_signed_nightly_packs_are_kept_and_chained(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CLAUSEWATCH_SIGNING_KEY_PASSWORD", raising=False)
    key = tmp_path / "signing.pem"
    assert main(["keygen", "--out", str(key)]) == 0
    assert nightly(tmp_path, key, AS_OF) == 3
    assert nightly(tmp_path, key, "2026-11-23T06:00:00Z") == 3
    assert nightly(tmp_path, key, "2026-11-23T06:00:00Z") == 3  # run again the same night
    kept = sorted(p.name for p in (tmp_path / "packs").iterdir())
    assert kept == ["evidence-pack-2026-11-22-0001.zip", "evidence-pack-2026-11-23-0002.zip",
                    "evidence-pack-2026-11-23-0003.zip"]
    packs = tmp_path / "packs"
    for earlier, later in zip(kept, kept[1:], strict=False):
        with open_pack(packs / later) as root:
            link = read_link(packs / earlier)
            chain = (root / "chain.json").read_text()
            assert link.manifest_sha256 in chain and f'"ref": "{earlier}"' in chain
    capsys.readouterr()
    public = tmp_path / "signing.pub.pem"
    assert main(["verify", str(packs / kept[2]), "--public-key", str(public), "--previous",
                 str(packs / kept[1])]) == 0
    assert "VERIFIED (signed by trusted key" in capsys.readouterr().out


def test_an_unsigned_pack_verifies_as_unsigned(case, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("CLAUSEWATCH_TRUSTED_KEYS", raising=False)
    pack = build(case, tmp_path / "out")
    assert main(["verify", str(pack)]) == 0
    assert "VERIFIED (unsigned" in capsys.readouterr().out


def listed(readme: str) -> set[str]:
    return set(ROW.findall(readme))


def test_the_pack_readme_describes_only_the_files_that_exist(case, tmp_path):
    from report_packs import keypair

    first = build(case, tmp_path / "a")
    readme = (first / "README.md").read_text(encoding="utf-8")
    files = {p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file()}
    names = listed(readme)
    for name in names:
        assert name in files or any(f.startswith(name) for f in files), name
    assert "signature.json" not in readme and "openssl" not in readme
    assert "--public-key signataire" not in readme and "paquet précédent" not in readme
    assert "raw/README.txt" in names  # no raw pages: the placeholder, not "raw API pages"
    assert files - {"contract/contract.yaml.sha256"} <= names | {"README.md"}

    key, _, _ = keypair(tmp_path)
    raw = write_raw(tmp_path / "raw")
    second = build(case, tmp_path / "b", signing_key=key, previous=first, raw_dir=raw)
    readme = (second / "README.md").read_text(encoding="utf-8")
    names = listed(readme)
    assert {"signature.json", "raw/"} <= names and "raw/README.txt" not in names
    assert "openssl pkeyutl -verify" in readme
    assert "--public-key signataire.pub.pem --previous PAQUET_PRECEDENT" in readme
    assert "(`evidence-pack`, séquence 1)" in readme
