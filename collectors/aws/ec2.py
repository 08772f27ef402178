"""EC2 inventory of one account and region: every instance not terminated, with its tags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from clausewatch.collectors.aws.pagination import PageReader, members

SOURCE = "aws.ec2"
GONE = frozenset({"shutting-down", "terminated"})
#: MaxResults of DescribeInstances and DescribeVolumes: the EC2 API pages describe calls by up
#: to 1000 (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-pagination.html).
PAGE = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class Instance:
    """What the inventory says about one instance."""

    instance_id: str
    arn: str
    state: str
    tags: Mapping[str, str] = field(default_factory=dict)
    platform: str | None = None
    launched_at: datetime | None = None
    raw_ref: str = ""

    @property
    def name(self) -> str | None:
        return self.tags.get("Name")


def tags_of(items: Sequence[Mapping[str, Any]] | None) -> dict[str, str]:
    """AWS ``[{Key, Value}]`` tags as a dict."""
    return {str(t["Key"]): str(t.get("Value", "")) for t in items or ()}


def instance_arn(partition: str, region: str, account_id: str, instance_id: str) -> str:
    return f"arn:{partition}:ec2:{region}:{account_id}:instance/{instance_id}"


def read_instances(
    reader: PageReader, account_id: str, region: str, partition: str = "aws"
) -> list[Instance]:
    """Every instance of the region except those being or already terminated.

    An answer without ``Reservations`` (a region without instances sends an empty
    ``reservationSet``) is a ``MalformedResponse``: subjects never vanish silently.
    """
    found: list[Instance] = []
    for page, ref in reader.pages("describe_instances", PaginationConfig={"PageSize": PAGE}):
        for reservation in members(page, "Reservations", "DescribeInstances"):
            owner = str(reservation.get("OwnerId") or account_id)
            for inst in reservation.get("Instances", []):
                state = str(inst.get("State", {}).get("Name", "unknown"))
                if state in GONE:
                    continue
                found.append(
                    Instance(
                        instance_id=inst["InstanceId"],
                        arn=instance_arn(partition, region, owner, inst["InstanceId"]),
                        state=state,
                        tags=tags_of(inst.get("Tags")),
                        platform=inst.get("PlatformDetails") or inst.get("Platform"),
                        launched_at=inst.get("LaunchTime"),
                        raw_ref=ref,
                    )
                )
    return found
