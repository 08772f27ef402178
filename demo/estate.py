"""A realistic synthetic estate for the demo, generated deterministically relative to ``as_of``.

Transports Morel & Fils, run by Infogérance Atlantique: an Entra ID tenant, a Google Workspace
(Directory user records turned into identities by the Workspace collector's own code),
two AWS accounts in two regions, SSM-patched servers, RDS databases under AWS Backup, file
servers, and Intune workstations. The same ``as_of`` always gives the same records, and every
status of every check occurs somewhere (see ``tests/test_demo.py``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from clausewatch.collectors.google.workspace_user import parse_user
from clausewatch.collectors.workspace.identity import workspace_identity
from clausewatch.collectors.workspace.privilege import AdminRoles
from clausewatch.core.clock import iso_z
from clausewatch.core.evidence import CollectionError, Evidence, Kind, default_evidence_id

TENANT = "3f0a2c6e-6a4d-4a8e-9d1b-7c2f5e8a9b10"
DOMAIN = "morel-transports.fr"
WORKSPACE = "C03xk9m2p"
ACCOUNTS = ("111111111111", "222222222222")
REGIONS = ("eu-west-3", "eu-west-1")
FIRST = ["alice", "bruno", "chloe", "david", "emma", "farid", "gael", "hugo", "ines", "jules",
         "karim", "lea", "manon", "nadia", "olivier", "paul", "quentin", "rose", "sami", "theo",
         "ugo", "valerie", "william", "yanis", "zoe"]
LAST = ["martin", "bernard", "dubois", "thomas", "robert", "richard", "petit", "durand",
        "leroy", "moreau", "simon", "laurent", "lefebvre", "michel", "garcia", "david"]
SEED = 14


@dataclass
class Estate:
    """The generated records: evidence and the collection errors of the simulated night."""

    evidence: list[Evidence]
    errors: list[CollectionError]


class _Builder:
    def __init__(self, as_of: datetime) -> None:
        self.as_of = as_of
        self.rng = random.Random(SEED)
        self.evidence: list[Evidence] = []
        self.errors: list[CollectionError] = []
        self.collected = as_of - timedelta(hours=2)

    def ago(self, days: float = 0, hours: float = 0) -> datetime:
        return self.as_of - timedelta(days=days, hours=hours)

    def add(
        self, kind: str, source: str, subject: str, origin: str, facts: dict[str, Any],
        observed_at: datetime | None = None,
    ) -> Evidence:
        ev = Evidence(
            id=default_evidence_id(kind, source, subject, facts),
            kind=kind,
            source=source,
            subject=subject,
            observed_at=observed_at or self.collected,
            facts=facts,
            origin=origin,
            raw_ref=f"demo/{source}/{origin.replace('/', '_')}.json",
        )
        self.evidence.append(ev)
        return ev

    # ---- identities -------------------------------------------------------------------------

    def people(self, n: int) -> Iterator[str]:
        seen: set[str] = set()
        while len(seen) < n:
            name = f"{self.rng.choice(FIRST)}.{self.rng.choice(LAST)}"
            if name not in seen:
                seen.add(name)
                yield name

    def identity(self, source: str, origin: str, subject: str, **facts: Any) -> None:
        base = {
            "account": subject,
            "display_name": subject.split("@")[0].replace(".", " ").title(),
            "enabled": True,
            "account_type": "member",
            "privileged": False,
            "privileged_reason": None,
            "mfa_registered": True,
            "mfa_enforced": True,
            "mfa_enforced_by": None,
            "created_at": self.ago(days=self.rng.randint(60, 1500)),
        }
        base.update(facts)
        self.add(Kind.IDENTITY, source, subject, origin, base)

    def entra(self) -> None:
        origin = f"entra/{TENANT}"
        ca = "CA001 Require MFA for all users"
        names = list(self.people(240))
        for i, name in enumerate(names):
            upn = f"{name}@{DOMAIN}"
            facts: dict[str, Any] = {"mfa_enforced_by": ca}
            if i < 11:
                facts.update(privileged=True, privileged_reason="Global Administrator"
                             if i < 3 else "Exchange Administrator")
            if i == 5:  # an admin excluded from the only CA policy
                facts.update(mfa_enforced=False, mfa_enforced_by=None)
            if i in (20, 21, 22, 23):  # users excluded from CA (travel exception group)
                facts.update(mfa_enforced=False, mfa_enforced_by=None,
                             mfa_registered=i % 2 == 0)
            if i in (30, 31):  # new joiners, not yet enrolled: within the grace period
                facts.update(mfa_enforced=False, mfa_registered=False, mfa_enforced_by=None,
                             created_at=self.ago(days=3))
            if 40 <= i < 48:  # leavers: disabled, out of the population
                facts.update(enabled=False, mfa_enforced=False, mfa_enforced_by=None)
            self.identity("entra", origin, upn, **facts)
        for i in range(12):
            self.identity("entra", origin, f"ext{i:02d}_partner.com#EXT#@{DOMAIN}",
                          account_type="guest", mfa_enforced=False, mfa_registered=False)
        for box in ("accueil", "factures", "salle-reunion-1"):
            self.identity("entra", origin, f"{box}@{DOMAIN}",
                          account_type="room" if box.startswith("salle") else "shared_mailbox",
                          enabled=False, mfa_enforced=False, mfa_registered=False)
        self.identity("entra", origin, f"bg-admin-01@{DOMAIN}", privileged=True,
                      privileged_reason="Global Administrator (break-glass)",
                      mfa_enforced=False, mfa_registered=True)

    def workspace(self) -> None:
        """Directory ``users`` records, made identities by the Workspace collector's own code."""
        origin = f"workspace/{WORKSPACE}"
        roles = AdminRoles()  # no role assignment: super admins are flagged by isAdmin
        for i, name in enumerate(self.people(110)):
            email = f"{name}@ateliers.{DOMAIN}"
            created = self.ago(days=self.rng.randint(60, 1500))
            doc: dict[str, Any] = {
                "kind": "admin#directory#user", "id": f"1{i:020d}", "primaryEmail": email,
                "name": {"fullName": name.replace(".", " ").title()},
                "isAdmin": i < 3, "isDelegatedAdmin": False,
                "isEnrolledIn2Sv": True, "isEnforcedIn2Sv": True,
                "suspended": False, "archived": False, "orgUnitPath": "/Ateliers",
                "customerId": WORKSPACE, "creationTime": iso_z(created),
            }
            if i == 1:  # a super admin enrolled but not enforced
                doc["isEnforcedIn2Sv"] = False
            if i in (50, 51, 52):
                doc.update(isEnforcedIn2Sv=False, isEnrolledIn2Sv=False)
            if i in (60, 61):  # the Directory API did not say (user in a sub-OU being moved)
                del doc["isEnforcedIn2Sv"]
            ref = f"demo/workspace/{origin.replace('/', '_')}.json"
            self.evidence.append(workspace_identity(parse_user(doc, ref), roles, origin=origin,
                                                    observed_at=self.collected))

    def aws_iam(self) -> None:
        for n, account in enumerate(ACCOUNTS):
            origin = f"aws/{account}"
            self.identity("aws.iam", origin, f"arn:aws:iam::{account}:root", account="root",
                          account_type="root", privileged=True, privileged_reason="root user",
                          mfa_enforced_by="root virtual MFA device")
            for i in range(14):
                user = f"arn:aws:iam::{account}:user/{'ops' if i < 4 else 'dev'}-{n}{i:02d}"
                facts: dict[str, Any] = {"account": user.rsplit("/", 1)[1],
                                         "mfa_enforced_by": "IAM MFA device"}
                if i < 4:
                    facts.update(privileged=True,
                                 privileged_reason="AdministratorAccess via group Admins")
                if n == 1 and i == 2:  # an admin without MFA in the second account
                    facts.update(mfa_enforced=False, mfa_registered=False, mfa_enforced_by=None)
                if i >= 12:  # CI users: access keys only, no console password
                    facts.update(account_type="service", mfa_enforced=False,
                                 mfa_registered=False, mfa_enforced_by=None)
                self.identity("aws.iam", origin, user, **facts)

    # ---- servers, patches -------------------------------------------------------------------

    def server(self, account: str, region: str, name: str, tags: dict[str, str],
               managed: bool = True, assessed_days: float = 0.1) -> str:
        """An EC2 instance; its SSM patch state was assessed ``assessed_days`` ago."""
        iid = f"i-0{self.rng.getrandbits(64):016x}"
        arn = f"arn:aws:ec2:{region}:{account}:instance/{iid}"
        self.add(Kind.ASSET, "aws.ec2", arn, f"aws/{account}/{region}", {
            "asset_kind": "server", "name": name, "tags": {"Name": name, **tags},
            "os": "Windows Server" if "win" in name or "erp" in name else "Amazon Linux",
            "os_version": "2022" if "win" in name else "2023",
            "last_seen": self.ago(hours=1),
            "patch_assessed_at": self.ago(days=assessed_days) if managed else None,
        })
        return arn

    def patch(self, asset: str, origin: str, source: str, update_id: str, severity: str,
              released_days: float, state: str, installed_after: float | None = None,
              observed: datetime | None = None) -> None:
        released = self.ago(days=released_days)
        facts: dict[str, Any] = {
            "update_id": update_id, "severity": severity, "state": state,
            "released_at": released, "first_seen_at": released + timedelta(hours=8),
            "installed_at": released + timedelta(days=installed_after)
            if state == "installed" and installed_after is not None else None,
            "classification": "SecurityUpdates",
            "cves": [f"CVE-{self.as_of.year}-{self.rng.randint(20000, 49999)}"],
        }
        self.add(Kind.PATCH, source, asset, origin, facts, observed_at=observed)

    def servers(self) -> dict[str, str]:
        """Dozens of servers; returns name -> ARN for the ones other parts refer to."""
        named: dict[str, str] = {}
        catalogue = [(f"ALAS-{self.as_of.year}-{100 + i}", sev, days)
                     for i, (sev, days) in enumerate(
                         [("critical", 3), ("critical", 25), ("important", 45), ("critical", 60),
                          ("important", 80), ("moderate", 15), ("important", 20)])]
        n = 0
        for account in ACCOUNTS:
            for region in REGIONS:
                for j in range(9):
                    n += 1
                    role = ["web", "app", "app", "batch", "web", "app", "db-proxy", "win-ad",
                            "win-rds"][j]
                    name = f"srv-{role}-{n:02d}"
                    env = "staging" if j == 8 and region == "eu-west-1" else "prod"
                    arn = self.server(account, region, name, {"env": env, "role": role})
                    named[name] = arn
                    origin = f"aws/{account}/{region}"
                    for uid, sev, days in catalogue:
                        self.patch(arn, origin, "aws.ssm", uid, sev, days, "installed",
                                   installed_after=min(days - 0.5, self.rng.uniform(1, 5)),
                                   observed=self.ago(days=0.1))
        a, r = ACCOUNTS[0], REGIONS[0]
        origin = f"aws/{a}/{r}"
        # breaches: a critical update missing 12 days after release, and a late install
        self.patch(named["srv-app-02"], origin, "aws.ssm", "KB5044281", "critical", 12, "missing")
        self.patch(named["srv-web-01"], origin, "aws.ssm", "KB5044282", "important", 38,
                   "installed", installed_after=34)
        self.patch(named["srv-batch-04"], origin, "aws.ssm", "ALAS-OPENSSH", "critical", 9,
                   "failed")
        # at risk: a critical update released 6 days ago, due tomorrow
        self.patch(named["srv-app-03"], origin, "aws.ssm", "KB5046617", "critical", 6, "missing")
        self.patch(named["srv-web-05"], origin, "aws.ssm", "KB5046617", "critical", 5.5, "missing")
        # no evidence: an instance SSM does not manage, and one whose agent went silent
        named["srv-legacy-ftp"] = self.server(a, r, "srv-legacy-ftp",
                                              {"env": "prod", "role": "ftp"}, managed=False)
        silent = self.server(a, REGIONS[1], "srv-app-27", {"env": "prod", "role": "app"},
                             assessed_days=5)
        self.patch(silent, f"aws/{a}/{REGIONS[1]}", "aws.ssm", "ALAS-2026-100", "critical", 8,
                   "installed", installed_after=2, observed=self.ago(days=5))
        named["srv-app-27"] = silent
        # the printer server: its waiver expired, so it is breached again
        prn = self.server(a, r, "srv-print-01", {"env": "prod", "role": "print"})
        self.patch(prn, origin, "aws.ssm", "KB5043064", "critical", 40, "missing")
        # the legacy ERP server: breached, but under a waiver in force
        erp = self.server(a, r, "srv-erp-01", {"env": "prod", "app": "erp-legacy"})
        self.patch(erp, origin, "aws.ssm", "KB5043064", "critical", 40, "missing")
        self.patch(erp, origin, "aws.ssm", "KB5044284", "important", 70, "missing")
        return named

    # ---- databases, file servers, backups, restore tests -----------------------------------

    def backups(self) -> None:
        a = ACCOUNTS[0]
        region = REGIONS[0]
        origin = f"aws/{a}/{region}"
        dbs = {"erp-db": 0.3, "billing-db": 0.4, "crm-db": 3.2, "analytics-db": 0.8}
        arns = {}
        for db, last_ok in dbs.items():
            arn = f"arn:aws:rds:{region}:{a}:db:{db}"
            arns[db] = arn
            self.add(Kind.ASSET, "aws.rds", arn, origin, {
                "asset_kind": "database", "name": db, "last_seen": self.ago(hours=1),
                "tags": {"env": "prod", "restore_test": "required"
                         if db in ("erp-db", "billing-db") else "no"},
            })
            for k in range(30):
                when = self.ago(days=last_ok + k)
                self.backup(arn, origin, when, "success")
            if db == "crm-db":  # failing every night since
                for k in range(3):
                    self.backup(arn, origin, self.ago(days=0.2 + k), "failed")
        self.restore(arns["erp-db"], origin, self.ago(days=41), 95)
        self.restore(arns["billing-db"], origin, self.ago(days=85), 130)
        for n, (account, reg) in enumerate(zip(ACCOUNTS, REGIONS, strict=True), start=1):
            fs_origin = f"aws/{account}/{reg}"
            fs = f"arn:aws:ec2:{reg}:{account}:instance/i-0f5{n:013x}"
            self.add(Kind.ASSET, "aws.ec2", fs, fs_origin, {
                "asset_kind": "server", "name": f"fs-0{n}", "last_seen": self.ago(hours=1),
                "tags": {"env": "prod", "role": "fileserver", "restore_test": "required"},
                "patch_assessed_at": self.ago(hours=5), "os": "Windows Server",
                "os_version": "2022",
            })
            if n == 1:
                for k in range(14):
                    self.backup(fs, fs_origin, self.ago(days=0.25 + k), "success")
                self.restore(fs, fs_origin, self.ago(days=30), 310)  # too slow for the RTO
                self.restore(fs, fs_origin, self.ago(days=120), 200)
        self.errors.append(CollectionError(
            source="aws.backup", origin=f"aws/{ACCOUNTS[1]}/{REGIONS[1]}",
            kinds=(Kind.BACKUP, Kind.RESTORE_TEST), operation="ListBackupJobs",
            message="AccessDenied: role ClauseWatchReadOnly is not allowed to perform "
                    "backup:ListBackupJobs",
            occurred_at=self.collected,
        ))

    def backup(self, resource: str, origin: str, when: datetime, outcome: str) -> None:
        self.add(Kind.BACKUP, "aws.backup", resource, origin, {
            "outcome": outcome, "completed_at": when, "started_at": when - timedelta(minutes=40),
            "job_id": f"{self.rng.getrandbits(64):016X}", "backup_type": "snapshot",
        })

    def restore(self, resource: str, origin: str, when: datetime, minutes: float) -> None:
        self.add(Kind.RESTORE_TEST, "aws.backup", resource, origin, {
            "outcome": "success", "completed_at": when, "duration_minutes": minutes,
            "method": "automated",
        })

    # ---- workstations -----------------------------------------------------------------------

    def workstations(self) -> None:
        origin = f"intune/{TENANT}"
        updates = [("KB5048667", "critical", 13.5), ("KB5046617", "critical", 44),
                   ("KB5044284", "critical", 75), ("KB5048685", "important", 20),
                   ("KB5046540", "important", 50), ("KB5045935", "important", 90)]
        for i in range(320):
            device = f"{self.rng.getrandbits(128):032x}"
            device = f"{device[:8]}-{device[8:12]}-{device[12:16]}-{device[16:20]}-{device[20:]}"
            synced = self.ago(days=20) if i in (7, 77, 177, 277) else self.ago(
                hours=self.rng.uniform(1, 60))
            self.add(Kind.ASSET, "intune", device, origin, {
                "asset_kind": "workstation", "name": f"PC-MOREL-{i + 1:04d}",
                "os": "Windows", "os_version": "10.0.26100.2605", "last_seen": synced,
                "patch_assessed_at": synced, "tags": {"ownership": "company"},
            }, observed_at=self.collected)
            for uid, sev, days in updates:
                if days < 20 and i % 27 == 3:  # 12 devices still missing this month's update
                    self.patch(device, origin, "intune", uid, sev, days, "missing",
                               observed=synced)
                elif days == 44 and i in (11, 101, 151, 201, 251, 301):  # a build behind
                    self.patch(device, origin, "intune", uid, sev, days, "missing",
                               observed=synced)
                else:
                    self.patch(device, origin, "intune", uid, sev, days, "installed",
                               installed_after=min(days - 0.5, self.rng.uniform(0.5, 9)),
                               observed=synced)


def build_estate(as_of: datetime) -> Estate:
    """Every record of the demo estate as seen at ``as_of``."""
    b = _Builder(as_of)
    b.entra()
    b.workspace()
    b.aws_iam()
    b.servers()
    b.backups()
    b.workstations()
    return Estate(b.evidence, b.errors)
