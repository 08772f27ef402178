"""Servers and patches: EC2 inventory on moto, SSM Patch Manager through botocore's Stubber."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.stub import ANY, Stubber
from moto import mock_aws

from clausewatch.collectors.aws.ssm import WANTED_STATES, PatchCollector, ReleaseDates
from clausewatch.core.evidence import CollectionError, Evidence

AS_OF = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
ACCOUNT = "123456789012"
REGION = "eu-west-3"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _instances() -> dict[str, str]:
    ec2 = boto3.client("ec2", region_name=REGION)
    out = {}
    for name, env in (("srv-win-01", "prod"), ("srv-lin-02", "prod"), ("srv-orphan", "dev")):
        inst = ec2.run_instances(
            ImageId="ami-12345678", MinCount=1, MaxCount=1,
            TagSpecifications=[{"ResourceType": "instance",
                                "Tags": [{"Key": "Name", "Value": name},
                                         {"Key": "env", "Value": env}]}],
        )["Instances"][0]
        out[name] = inst["InstanceId"]
    gone = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]
    ec2.terminate_instances(InstanceIds=[gone["InstanceId"]])
    return out


def _node(iid: str, platform: str) -> dict[str, Any]:
    return {"InstanceId": iid, "PingStatus": "Online", "PlatformType": "Windows"
            if "Windows" in platform else "Linux", "PlatformName": platform,
            "PlatformVersion": "10.0.20348", "ResourceType": "EC2Instance",
            "LastPingDateTime": AS_OF - timedelta(minutes=5)}


def _state(iid: str, ended: datetime) -> dict[str, Any]:
    return {"InstanceId": iid, "PatchGroup": "prod", "BaselineId": "pb-0c10e65780EXAMPLE",
            "InstalledCount": 212, "MissingCount": 1, "FailedCount": 0,
            "NotApplicableCount": 1630, "OperationStartTime": ended - timedelta(minutes=4),
            "OperationEndTime": ended, "Operation": "Scan"}


def _patch(kb: str, state: str, severity: str = "Critical", installed: datetime = EPOCH,
           cves: str | None = None) -> dict[str, Any]:
    p = {"Title": f"Update ({kb})", "KBId": kb, "Classification": "SecurityUpdates",
         "Severity": severity, "State": state, "InstalledTime": installed}
    if cves:
        p["CVEIds"] = cves
    return p


def _collect(c: PatchCollector) -> tuple[dict[tuple[str, str], Evidence], list[CollectionError]]:
    items = list(c.collect())
    ev = {(i.kind, i.subject + (":" + i.facts["update_id"] if i.kind == "patch" else "")): i
          for i in items if isinstance(i, Evidence)}
    assert len(ev) == len([i for i in items if isinstance(i, Evidence)])
    return ev, [i for i in items if isinstance(i, CollectionError)]


def _factory(aws_client: Any, ssm: Any):  # noqa: ANN202
    ec2 = aws_client("ec2", REGION)
    return lambda service: {"ec2": ec2, "ssm": ssm}[service]


@mock_aws
def test_inventory_joined_to_patch_manager(aws_client: Any, raw: Any) -> None:
    ids = _instances()
    win, lin = ids["srv-win-01"], ids["srv-lin-02"]
    ssm = aws_client("ssm", REGION)
    assessed = AS_OF - timedelta(hours=3)
    released = datetime(2026, 11, 11, 17, tzinfo=UTC)
    filters = [{"Key": "State", "Values": WANTED_STATES}]
    with Stubber(ssm) as st:
        st.add_response("describe_instance_information", {"InstanceInformationList": [
            _node(win, "Microsoft Windows Server 2022 Datacenter"), _node(lin, "Amazon Linux"),
            {**_node("mi-0123456789abcdef0", "Ubuntu"), "ResourceType": "ManagedInstance",
             "ComputerName": "onprem-db"}]}, {"MaxResults": 50})
        st.add_response("describe_instance_patch_states", {"InstancePatchStates": [
            _state(win, assessed), _state(lin, assessed)]},
            {"InstanceIds": sorted([win, lin, "mi-0123456789abcdef0"]), "MaxResults": 50})
        patches = {
            win: [_patch("KB5044281", "MISSING", cves="CVE-2024-43572, CVE-2024-43573"),
                  _patch("KB5043050", "INSTALLED", "Important", AS_OF - timedelta(days=9)),
                  _patch("KB5046617", "INSTALLED_PENDING_REBOOT")],
            lin: [_patch("ALAS2-2026-001", "INSTALLED", "Medium", AS_OF - timedelta(days=2))],
        }
        for iid in sorted(patches):  # nodes are read in id order
            st.add_response("describe_instance_patches", {"Patches": patches[iid]},
                            {"InstanceId": iid, "Filters": filters, "MaxResults": 100})
        st.add_response("describe_available_patches", {"Patches": [
            {"Id": "x1", "KbNumber": "KB5044281", "ReleaseDate": released},
            {"Id": "x2", "KbNumber": "KB5043050", "ReleaseDate": released - timedelta(days=30)}]},
            {"Filters": [{"Key": "PATCH_ID", "Values": ["KB5043050", "KB5044281", "KB5046617"]}]})
        releases = ReleaseDates()
        ev, errors = _collect(PatchCollector(ACCOUNT, REGION, _factory(aws_client, ssm), raw,
                                             AS_OF, releases))
        assert errors == [], errors
        st.assert_no_pending_responses()
    assert errors == []
    arn = {n: f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{i}" for n, i in ids.items()}
    mi = f"arn:aws:ssm:{REGION}:{ACCOUNT}:managed-instance/mi-0123456789abcdef0"
    assets = {s: e for (k, s), e in ev.items() if k == "asset"}
    assert set(assets) == {*arn.values(), mi}  # the terminated instance is not inventory
    w = assets[arn["srv-win-01"]].facts
    assert (w["asset_kind"], w["name"], w["tags"]) == ("server", "srv-win-01",
                                                        {"Name": "srv-win-01", "env": "prod"})
    assert w["patch_assessed_at"] == assessed and w["ssm_managed"] is True
    assert w["os"] == "Microsoft Windows Server 2022 Datacenter"
    orphan = assets[arn["srv-orphan"]]
    assert orphan.facts["patch_assessed_at"] is None and orphan.facts["ssm_managed"] is False
    assert assets[mi].source == "aws.ssm" and assets[mi].facts["name"] == "onprem-db"
    assert assets[mi].facts["patch_assessed_at"] is None  # no patch state: no evidence
    missing = ev[("patch", f"{arn['srv-win-01']}:KB5044281")]
    assert missing.facts["state"] == "missing" and missing.facts["severity"] == "critical"
    assert missing.facts["released_at"] == released and missing.facts["installed_at"] is None
    assert missing.facts["cves"] == ["CVE-2024-43572", "CVE-2024-43573"]
    assert missing.observed_at == assessed and missing.origin == f"aws/{ACCOUNT}/{REGION}"
    done = ev[("patch", f"{arn['srv-win-01']}:KB5043050")].facts
    assert done["state"] == "installed" and done["installed_at"] == AS_OF - timedelta(days=9)
    reboot = ev[("patch", f"{arn['srv-win-01']}:KB5046617")].facts
    assert (reboot["state"], reboot["vendor_state"]) == ("missing", "INSTALLED_PENDING_REBOOT")
    assert reboot["released_at"] is None  # unknown to DescribeAvailablePatches
    # an installed update with no release date cannot be judged late: counted, not listed
    assert ("patch", f"{arn['srv-lin-02']}:ALAS2-2026-001") not in ev
    assert assets[arn["srv-lin-02"]].facts["undated_installed_updates"] == 1
    # the release dates are cached for the run: a second region asks nothing more
    ssm2 = aws_client("ssm", REGION)
    with Stubber(ssm2) as st:
        st.add_response("describe_available_patches", {"Patches": []},
                        {"Filters": [{"Key": "PATCH_ID", "Values": ["KB1"]}]})
        got = releases.lookup(_reader(ssm2, raw), ["KB5044281", "KB1", "kernel"])
    assert got == {"KB5044281": released, "KB1": None}


def _reader(client: Any, raw: Any) -> Any:
    from clausewatch.collectors.aws.pagination import PageReader
    return PageReader(client, raw, "aws.ssm", "aws/t")


def test_patch_states_are_asked_fifty_instances_at_a_time(aws_client: Any, raw: Any) -> None:
    ids = [f"mi-{n:017x}" for n in range(120)]
    ec2, ssm = aws_client("ec2", REGION), aws_client("ssm", REGION)
    with Stubber(ec2) as e, Stubber(ssm) as st:
        e.add_response("describe_instances", {"Reservations": []}, {"MaxResults": 1000})
        st.add_response("describe_instance_information", {"InstanceInformationList": [
            {"InstanceId": i, "ResourceType": "ManagedInstance"} for i in ids]}, {"MaxResults": 50})
        for batch in (ids[:50], ids[50:100], ids[100:]):
            st.add_response("describe_instance_patch_states", {"InstancePatchStates": []},
                            {"InstanceIds": batch, "MaxResults": 50})
        ev, errors = _collect(PatchCollector(
            ACCOUNT, REGION, {"ec2": ec2, "ssm": ssm}.__getitem__, raw, AS_OF, ReleaseDates()))
        assert errors == [], errors
        st.assert_no_pending_responses()
    assert errors == [] and len(ev) == 120
    assert all(e.facts["patch_assessed_at"] is None for e in ev.values())


@mock_aws
def test_ssm_access_denied_keeps_servers_as_assets_without_patch_data(aws_client: Any,
                                                                       raw: Any) -> None:
    ids = _instances()
    ssm = aws_client("ssm", REGION)
    with Stubber(ssm) as st:
        st.add_client_error("describe_instance_information", "AccessDeniedException",
                            "User is not authorized to perform: ssm:DescribeInstanceInformation",
                            400)
        ev, errors = _collect(PatchCollector(ACCOUNT, REGION, _factory(aws_client, ssm), raw,
                                             AS_OF, ReleaseDates()))
    assert [(e.source, e.origin, e.kinds, e.operation) for e in errors] == [
        ("aws.ssm", f"aws/{ACCOUNT}/{REGION}", ("patch",), "DescribeInstanceInformation")]
    assert len(ev) == len(ids)
    assert all(e.facts["patch_assessed_at"] is None for e in ev.values())


@mock_aws
def test_one_node_failing_leaves_only_that_node_without_assessment(aws_client: Any,
                                                                    raw: Any) -> None:
    ids = _instances()
    win, lin = ids["srv-win-01"], ids["srv-lin-02"]
    ssm = aws_client("ssm", REGION)
    when = AS_OF - timedelta(hours=1)
    with Stubber(ssm) as st:
        st.add_response("describe_instance_information", {"InstanceInformationList": [
            _node(win, "Windows"), _node(lin, "Amazon Linux")]})
        st.add_response("describe_instance_patch_states", {"InstancePatchStates": [
            _state(win, when), _state(lin, when)]})
        by_id = sorted([win, lin])
        first_fails = by_id[0]
        st.add_client_error("describe_instance_patches", "InternalServerError", "boom", 500,
                            expected_params={"InstanceId": first_fails, "Filters": ANY,
                                             "MaxResults": 100})
        st.add_response("describe_instance_patches", {"Patches": []})
        ev, errors = _collect(PatchCollector(ACCOUNT, REGION, _factory(aws_client, ssm), raw,
                                             AS_OF, ReleaseDates()))
    (err,) = errors
    assert err.origin == f"aws/{ACCOUNT}/{REGION}" and err.subject.endswith(f"/{first_fails}")
    assert err.operation == "DescribeInstancePatches" and err.asset_kinds == ("server",)
    assessed = {s.rsplit("/", 1)[1]: e.facts["patch_assessed_at"] for (k, s), e in ev.items()}
    assert assessed[first_fails] is None  # never "compliant" for want of patch records
    assert assessed[by_id[1]] == when
    # the error covers its own asset, and only it
    from builders import commitment, contract

    from clausewatch.checks.engine import evaluate
    out = evaluate(contract(commitment("patch_lag", {"deadlines_days": {"critical": 7}})),
                   list(ev.values()), errors, AS_OF).outcomes[0]
    by = {r.subject.rsplit("/", 1)[1]: r for r in out.results}
    assert {first_fails, by_id[1]} <= set(by)
    assert by[first_fails].status.value == "no_evidence"
    assert "DescribeInstancePatches" not in by[by_id[1]].reason
    assert by[by_id[1]].status.value != "no_evidence" or "could not collect" not in \
        by[by_id[1]].reason
