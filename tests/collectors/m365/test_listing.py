"""The light listings (users, registration report, managed devices): what msgspec decodes is
what the SDK would have read, and anything else fails the page, naming it, never read as a
value."""

from __future__ import annotations

from typing import Any

import pytest
from m365_routes import CONTOSO, page, routes, start

USERS_2 = "GET_/v1.0/users?$skiptoken=RFNwdAIAAQAAACE6"
DEVICES_1 = "GET_/v1.0/deviceManagement/managedDevices"


def edited(name: str, n: int, **fields: Any) -> dict[str, Any]:
    """Page ``name`` with its ``n``-th object changed (a field set to None is removed)."""
    body = page(name)
    row = {**body["value"][n], **fields}
    body["value"][n] = {k: v for k, v in row.items() if v is not None}
    return {"body": body}


@pytest.mark.parametrize(("change", "named"), [
    ({"accountEnabled": "yes"}, "$.value[0].accountEnabled"),
    ({"id": None}, "`id`"),
    ({"createdDateTime": "2023-03-01T09:00:00"}, "no time zone"),
    ({"createdDateTime": 20230301}, "$.value[0].createdDateTime"),
])
def test_a_user_field_of_the_wrong_kind_fails_the_page(emulator, run_collector, change,
                                                       named) -> None:
    emu = start(emulator, routes(**{USERS_2: edited("users-2.json", 0, **change)}))
    evidence, errors = run_collector(emu, CONTOSO, "entra")
    assert evidence == []
    (err,) = errors
    assert err.operation == "users" and "malformed page" in err.message and named in err.message
    assert err.details["raw_ref"].startswith("raw/entra/entra/") and "users-0002" in \
        err.details["raw_ref"]


def test_a_missing_user_field_reads_as_unknown(emulator, run_collector) -> None:
    emu = start(emulator, routes(**{USERS_2: edited("users-2.json", 0, accountEnabled=None)}))
    evidence, errors = run_collector(emu, CONTOSO, "entra")
    assert errors == []
    first = page("users-2.json")["value"][0]
    [who] = [e for e in evidence if e.facts["object_id"] == first["id"]]
    assert who.facts["enabled"] is None  # unknown, never "disabled"


def test_a_registration_of_the_wrong_kind_fails_the_report(emulator, run_collector) -> None:
    table = routes(**{"GET_/v1.0/reports/authenticationMethods/userRegistrationDetails":
                      edited("registration-1.json", 0, methodsRegistered="mobilePhone")})
    evidence, errors = run_collector(start(emulator, table), CONTOSO, "entra")
    (err,) = errors
    assert err.operation == "registration-details" and "methodsRegistered" in err.message


def test_an_enum_member_the_sdk_does_not_know_reads_as_unknown(emulator, run_collector) -> None:
    body = edited("devices-1.json", 0, complianceState="someStateAddedLater",
                  managedDeviceOwnerType="unknownFutureValue")
    emu = start(emulator, routes(**{DEVICES_1: body}))
    evidence, errors = run_collector(emu, CONTOSO, "intune")
    assert errors == []
    device = body["body"]["value"][0]
    [asset] = [e for e in evidence if e.kind == "asset" and e.subject == device["id"]]
    assert asset.facts["compliance_state"] is None
    assert asset.facts["ownership"] == "unknownFutureValue"  # a member it knows: kept


def test_a_next_link_to_another_host_is_not_followed(emulator, run_collector) -> None:
    body = page("devices-1.json")
    body["@odata.nextLink"] = "http://127.0.0.2:9/v1.0/deviceManagement/managedDevices?x=1"
    emu = start(emulator, routes(**{DEVICES_1: {"body": body}}))
    evidence, errors = run_collector(emu, CONTOSO, "intune", collect=["intune"])
    assert evidence == []
    (err,) = errors
    assert err.operation == "managed-devices" and "is not under" in err.message
    assert emu.hits("GET", "/v1.0/deviceManagement/managedDevices") == 1


def test_security_defaults_of_the_wrong_kind_fail_naming_the_raw_page(emulator,
                                                                      run_collector) -> None:
    table = routes(**{"GET_/v1.0/policies/identitySecurityDefaultsEnforcementPolicy": {
        "body": page("security-defaults.json", isEnabled="true")}})
    evidence, errors = run_collector(start(emulator, table), CONTOSO, "entra")
    assert evidence == []  # never read as "not enabled"
    (err,) = errors
    assert err.operation == "security-defaults" and "isEnabled" in err.message
    assert "security-defaults-0001" in err.details["raw_ref"]
