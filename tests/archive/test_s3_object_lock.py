"""Evidence packs archived in S3 with Object Lock (moto's S3, Object Lock enabled): locked for
the contract's retention, never overwritten or deleted, read back by ``verify s3://``."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from clausewatch.pipeline.archive import (
    Archive,
    ArchiveError,
    archive_pack,
    fetch_pack,
    retention,
)

AS_OF = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "eu-west-3"}.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-3")
        conf = {"LocationConstraint": "eu-west-3"}
        client.create_bucket(Bucket="packs", CreateBucketConfiguration=conf,
                             ObjectLockEnabledForBucket=True)
        client.create_bucket(Bucket="plain", CreateBucketConfiguration=conf)
        yield client


def pack(demo_run) -> Path:  # type: ignore[no-untyped-def]
    return demo_run.out / "evidence-pack.zip"


def test_the_pack_is_locked_for_the_contracts_retention(s3, demo_run) -> None:  # type: ignore[no-untyped-def]
    done = archive_pack(Archive(bucket="packs", prefix="morel/"), pack(demo_run),
                        contract_id="morel-pas", run_id="run-1", as_of=AS_OF,
                        contract_retention_days=1827, client=s3)
    assert done.url == "s3://packs/morel/morel-pas/2026-11-22/run-1.zip"
    head = s3.head_object(Bucket="packs", Key="morel/morel-pas/2026-11-22/run-1.zip")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] == AS_OF + timedelta(days=1827)
    assert head["Metadata"]["clausewatch-sha256"] == done.sha256


def test_a_locked_pack_cannot_be_deleted_or_overwritten(s3, demo_run) -> None:  # type: ignore[no-untyped-def]
    done = archive_pack(Archive(bucket="packs"), pack(demo_run), contract_id="c",
                        run_id="run-1", as_of=AS_OF, contract_retention_days=30, client=s3)
    key = done.url.removeprefix("s3://packs/")
    with pytest.raises(ClientError) as caught:
        s3.delete_object(Bucket="packs", Key=key, VersionId=done.version_id)
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ArchiveError, match="already stored"):
        archive_pack(Archive(bucket="packs"), pack(demo_run), contract_id="c",
                     run_id="run-1", as_of=AS_OF, contract_retention_days=30, client=s3)
    versions = s3.list_object_versions(Bucket="packs", Prefix=key)["Versions"]
    assert [v["VersionId"] for v in versions] == [done.version_id]  # still the one pack


def test_a_bucket_without_object_lock_is_refused(s3, demo_run) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ArchiveError, match="no Object Lock"):
        archive_pack(Archive(bucket="plain"), pack(demo_run), contract_id="c",
                     run_id="r", as_of=AS_OF, contract_retention_days=30, client=s3)
    assert "Contents" not in s3.list_objects_v2(Bucket="plain")


def test_retention_is_never_shorter_than_the_contract() -> None:
    assert retention(Archive(bucket="b"), 1827) == 1827
    assert retention(Archive(bucket="b", retention_days=3650), 1827) == 3650
    with pytest.raises(ArchiveError, match="requires 1827"):
        retention(Archive(bucket="b", retention_days=365), 1827)
    with pytest.raises(ArchiveError, match="no retention"):
        retention(Archive(bucket="b"), None)


def test_verify_reads_an_archived_pack_back(s3, demo_run, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from clausewatch.cli import main

    done = archive_pack(Archive(bucket="packs"), pack(demo_run), contract_id="c",
                        run_id="run-1", as_of=AS_OF, contract_retention_days=30, client=s3)
    local = fetch_pack(done.url, tmp_path, client=s3)
    assert local.read_bytes() == pack(demo_run).read_bytes()
    code = main(["verify", done.url])
    out = capsys.readouterr().out
    assert code == 0 and "VERIFIED" in out
    code = main(["verify", "s3://packs/c/2026-11-22/missing.zip"])
    assert code == 2


def test_run_archives_the_night_when_the_sources_file_says_so(s3, tmp_path, monkeypatch,  # type: ignore[no-untyped-def]
                                                              demo_run) -> None:
    """The wiring in ``run``: after publication, the pack goes to the archive."""
    from clausewatch.commands.run import archive_night
    from clausewatch.pipeline.sources_file import SourcesConfig

    out = tmp_path / "out"
    shutil.copytree(demo_run.out, out)
    config = SourcesConfig(file="s.yaml", entries={},
                           settings={"archive": {"s3": {"bucket": "packs", "prefix": "n/",
                                                        "retention_days": 10}}})

    class _Ev:
        as_of = AS_OF

        class contract:  # noqa: N801
            id = "morel"
            evidence_retention_days = None

    class _Info:
        run_id = "r-42"

    archive_night(config, out, _Ev(), _Info())  # type: ignore[arg-type]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="packs")["Contents"]]
    assert keys == ["n/morel/2026-11-22/r-42.zip"]
