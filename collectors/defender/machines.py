"""Defender machines as ``asset`` facts (the machine resource type,
https://learn.microsoft.com/defender-endpoint/api/machine).

* ``os`` is the family of ``osPlatform`` in lower case (``windows`` for Windows10, Windows11,
  WindowsServer2022...; ``linux`` for Linux and the distributions Defender names, ``macos``,
  ``ios``, ``android``), so ``scope.facts: {os: windows}`` works; ``os_platform`` keeps the
  value as Defender gives it, ``os_version`` the ``version`` and ``os_build`` the ``osBuild``.
* ``asset_kind``: ``server`` for Windows Server and Linux (servers, in an outsourcing estate),
  ``workstation`` for Windows client versions and macOS, ``mobile`` for iOS and Android,
  ``device`` for anything else.
* Tags: the entry's ``tags``; ``defender_group`` (``rbacGroupName``), ``defender_health``
  (``healthStatus``), ``defender_onboarding`` (``onboardingStatus``); and each of
  ``machineTags``: ``key=value`` or ``key:value`` gives ``{key: value}``, a plain tag ``T``
  gives ``{T: "true"}``; all of them also joined in ``defender_tags`` (sorted, `` | ``).
* Patch data: ``patch_assessed_at`` is ``lastSeen`` (the last full device report,
  sent about every 24 hours), so ``patch_lag``'s ``freshness_days`` makes a machine not seen
  within the limit ``no_evidence``. A machine not onboarded (``onboardingStatus`` other than
  ``Onboarded``: a device Defender only discovered) has no patch data and says why
  (``patch_data_note``); so has an onboarded machine absent from the vulnerability export
  (Defender Vulnerability Management has not assessed it) and one without ``lastSeen``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from clausewatch.collectors.defender.timestamps import parse_time

LINUX = ("linux", "ubuntu", "debian", "centos", "redhat", "rhel", "suse", "sles", "oracle",
         "amazon", "fedora", "mariner", "alma", "rocky")
ONBOARDED = "onboarded"


def os_family(platform: str | None) -> str | None:
    """``Windows11`` -> ``windows``; None when Defender gives no platform."""
    if not platform:
        return None
    p = platform.casefold()
    if "windows" in p:
        return "windows"
    if p.startswith("mac") or p == "osx":
        return "macos"
    if p == "ios" or p.startswith("ipad"):
        return "ios"
    if "android" in p:
        return "android"
    if any(name in p for name in LINUX):
        return "linux"
    return p


def asset_kind(platform: str | None) -> str:
    family = os_family(platform)
    p = (platform or "").casefold()
    if family == "windows":
        return "server" if "server" in p else "workstation"
    if family == "linux":
        return "server"
    if family == "macos":
        return "workstation"
    if family in ("ios", "android"):
        return "mobile"
    return "device"


def machine_tags(machine: Mapping[str, Any], base: Mapping[str, str]) -> dict[str, str]:
    tags = dict(base)
    given = machine.get("machineTags")
    names = sorted({t.strip() for t in given if isinstance(t, str) and t.strip()}
                   ) if isinstance(given, list) else []
    for tag in names:
        for sep in ("=", ":"):
            name, found, label = tag.partition(sep)
            if found and name.strip() and label.strip():
                tags[name.strip()] = label.strip()
                break
        else:
            tags[tag] = "true"
    for key, field in (("defender_group", "rbacGroupName"), ("defender_health", "healthStatus"),
                       ("defender_onboarding", "onboardingStatus")):
        given_value = machine.get(field)
        if isinstance(given_value, str) and given_value:
            tags[key] = given_value
    if names:
        tags["defender_tags"] = " | ".join(names)
    return tags


def onboarded(machine: Mapping[str, Any]) -> bool:
    status = machine.get("onboardingStatus", machine.get("onboardingstatus"))
    return isinstance(status, str) and status.casefold() == ONBOARDED


def machine_facts(machine: Mapping[str, Any], tags: Mapping[str, str], *,
                  assessed: bool) -> dict[str, Any]:
    """The asset facts of one machine; ``assessed``: it has rows in the vulnerability export.
    Raises ``ValueError`` for an unreadable ``lastSeen``/``firstSeen``."""
    platform = machine.get("osPlatform") if isinstance(machine.get("osPlatform"), str) else None
    last_seen = parse_time(machine.get("lastSeen"), "lastSeen")
    first_seen = parse_time(machine.get("firstSeen"), "firstSeen")
    status = machine.get("onboardingStatus", machine.get("onboardingstatus"))
    note = _no_patch_data(machine, assessed, last_seen)
    facts: dict[str, Any] = {
        "asset_kind": asset_kind(platform),
        "name": machine.get("computerDnsName") or machine.get("id"),
        "tags": machine_tags(machine, tags),
        "os": os_family(platform),
        "os_platform": platform,
        "os_version": machine.get("version"),
        "os_build": machine.get("osBuild"),
        "last_seen": last_seen,
        "first_seen": first_seen,
        "patch_assessed_at": None if note else last_seen,
        "machine_id": machine.get("id"),
        "health_status": machine.get("healthStatus"),
        "onboarding_status": status,
        "rbac_group": machine.get("rbacGroupName"),
        "exposure_level": machine.get("exposureLevel"),
        "aad_device_id": machine.get("aadDeviceId"),
    }
    if note:
        facts["patch_data_note"] = note
    return facts


def _no_patch_data(machine: Mapping[str, Any], assessed: bool, last_seen: datetime | None
                   ) -> str | None:
    if not onboarded(machine):
        status = machine.get("onboardingStatus", machine.get("onboardingstatus"))
        return (f"not onboarded to Defender for Endpoint (onboardingStatus {status!r}): "
                "a discovered device, its vulnerabilities are not assessed")
    if last_seen is None:
        return "Defender gives no lastSeen: when it last reported is unknown"
    if not assessed:
        return ("onboarded but absent from the vulnerability export: Defender Vulnerability "
                "Management has not assessed it")
    return None
