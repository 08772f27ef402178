"""Inventory of the resources AWS Backup can protect, so an unprotected one is still seen.

``ListProtectedResources`` only knows resources backed up at least once; coverage needs an
independent inventory. One small reader per resource type (EC2 instances come from ``ec2.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from clausewatch.collectors.aws.ec2 import PAGE as EC2_PAGE
from clausewatch.collectors.aws.ec2 import tags_of
from clausewatch.collectors.aws.pagination import PageReader


@dataclass(frozen=True, slots=True, kw_only=True)
class Resource:
    """One resource of the inventory, as an asset."""

    arn: str
    source: str
    asset_kind: str
    name: str | None
    tags: dict[str, str] = field(default_factory=dict)
    raw_ref: str = ""
    details: dict[str, Any] = field(default_factory=dict)


#: DescribeDBInstances/DescribeDBClusters MaxRecords: 20-100, default 100; EFS DescribeFileSystems
#: and DynamoDB ListTables page by 100 by default, their maximum. DynamoDB tags are read per
#: table (ListTagsOfResource): the Tagging API's GetResources lists only resources tagged at
#: least once and is eventually consistent, so it cannot tell an untagged table from one not
#: indexed yet, and scopes select assets by tag.
RDS_PAGE = {"PageSize": 100}

Reader = Callable[[PageReader, str, str, str], Iterator[Resource]]


def rds_instances(r: PageReader, account: str, region: str, partition: str) -> Iterator[Resource]:
    """Stand-alone RDS instances (cluster members are backed up as their cluster)."""
    for page, ref in r.pages("describe_db_instances", PaginationConfig=RDS_PAGE):
        for db in page.get("DBInstances", []):
            if db.get("DBClusterIdentifier"):
                continue
            yield Resource(
                arn=db["DBInstanceArn"], source="aws.rds", asset_kind="database",
                name=db.get("DBInstanceIdentifier"), tags=tags_of(db.get("TagList")),
                raw_ref=ref, details={"engine": db.get("Engine")},
            )


def rds_clusters(r: PageReader, account: str, region: str, partition: str) -> Iterator[Resource]:
    """Aurora (and other RDS API) clusters."""
    for page, ref in r.pages("describe_db_clusters", PaginationConfig=RDS_PAGE):
        for db in page.get("DBClusters", []):
            yield Resource(
                arn=db["DBClusterArn"], source="aws.rds", asset_kind="database",
                name=db.get("DBClusterIdentifier"), tags=tags_of(db.get("TagList")),
                raw_ref=ref, details={"engine": db.get("Engine")},
            )


def ebs_volumes(r: PageReader, account: str, region: str, partition: str) -> Iterator[Resource]:
    for page, ref in r.pages("describe_volumes", PaginationConfig={"PageSize": EC2_PAGE}):
        for vol in page.get("Volumes", []):
            tags = tags_of(vol.get("Tags"))
            attached = [a.get("InstanceId") for a in vol.get("Attachments", [])]
            yield Resource(
                arn=f"arn:{partition}:ec2:{region}:{account}:volume/{vol['VolumeId']}",
                source="aws.ec2", asset_kind="volume", name=tags.get("Name"), tags=tags,
                raw_ref=ref, details={"attached_to": attached},
            )


def efs_file_systems(
    r: PageReader, account: str, region: str, partition: str
) -> Iterator[Resource]:
    for page, ref in r.pages("describe_file_systems"):
        for fs in page.get("FileSystems", []):
            yield Resource(
                arn=fs["FileSystemArn"], source="aws.efs", asset_kind="filesystem",
                name=fs.get("Name"), tags=tags_of(fs.get("Tags")), raw_ref=ref,
            )


def dynamodb_tables(
    r: PageReader, account: str, region: str, partition: str
) -> Iterator[Resource]:
    for page, ref in r.pages("list_tables"):
        for name in page.get("TableNames", []):
            arn = f"arn:{partition}:dynamodb:{region}:{account}:table/{name}"
            tags: dict[str, str] = {}
            for tag_page, _ in r.pages("list_tags_of_resource", ResourceArn=arn):
                tags.update(tags_of(tag_page.get("Tags")))
            yield Resource(
                arn=arn, source="aws.dynamodb", asset_kind="database", name=name, tags=tags,
                raw_ref=ref,
            )


#: AWS Backup resource type -> (boto3 service, reader). EC2 instances: see ``ec2.py``.
READERS: dict[str, tuple[str, Reader]] = {
    "RDS": ("rds", rds_instances),
    "Aurora": ("rds", rds_clusters),
    "EBS": ("ec2", ebs_volumes),
    "EFS": ("efs", efs_file_systems),
    "DynamoDB": ("dynamodb", dynamodb_tables),
}

#: Asset kind of a protected resource whose type has no inventory reader.
BACKUP_TYPE_KINDS = {
    "RDS": "database", "Aurora": "database", "DynamoDB": "database", "DocumentDB": "database",
    "Neptune": "database", "Redshift": "database", "EBS": "volume", "EFS": "filesystem",
    "FSx": "filesystem", "Storage Gateway": "volume", "S3": "bucket", "EC2": "server",
    "VirtualMachine": "server",
}
