"""Collection benchmark: Veeam Backup & Replication, 500 jobs with their sessions and points.

The estate (tests/veeam_fake.py, API 1.2-rev1): 500 backup jobs of 4 VMs each (500 job
states, 500 backups, 2,000 backup objects), 7 nightly sessions per job (3,500 sessions, one in
20 failed, whose task sessions are read), 14,000 restore points. Every request the fake answers
waits ``latency`` seconds.

Documented behaviour (cited):

* lists: ``skip``/``limit`` with ``pagination.total``; filters and sort apply before ``skip``
  and ``limit`` (https://helpcenter.veeam.com/docs/backup/vbr_rest/limit.html). No maximum
  ``limit`` is documented: the floor uses the collector's page of 200 items (the fake serves
  at most 200 a page, as a cautious server would);
* backup objects: ``GET /api/v1/backups/{id}/objects``, one list per backup (the 1.1+
  reference has a "Backup Objects" tag; an all-backups list there is not relied on until its
  shape is checked: docs/veeam.md);
* task sessions: ``GET /api/v1/sessions/{id}/taskSessions``, per session read (only failed
  backup sessions and SureBackup sessions are);
* sign-in: ``POST /api/oauth2/token`` (password grant), the token lasting ``expires_in``
  (900 s here); no concurrency or rate limit is documented: the floor assumes one request at a
  time.

Floor = token + serverTime + pages of jobs, states, backups + one objects page per backup +
session pages + one task page per failed session + restore-point pages, at concurrency 1.
"""

from __future__ import annotations

import rest_estates as kit
from collect_common import Figure, floor_seconds

JOBS, VMS, DAYS, FAIL_EVERY = 500, 4, 7, 20
LIMIT, CONCURRENCY = 200, 1


def estate(fake: object) -> int:
    """Fill ``fake``; the number of failed sessions."""
    import veeam_fake as vf

    fake.doc("serverTime", vf.fixture("server_time.json"))  # type: ignore[attr-defined]
    jobs, states, backups, sessions, points = [], [], [], [], []
    failed = 0
    for j in range(JOBS):
        jid, bid = f"00000000-0000-4000-8000-{j:012d}", f"00000000-0000-4000-9000-{j:012d}"
        names = [f"vm{j:03d}-{v}" for v in range(VMS)]
        jobs.append(vf.job(jid, f"Job {j:03d}", *(vf.include(n, f"vm-{j}-{v}")
                                                  for v, n in enumerate(names))))
        states.append(vf.state(jid, f"Job {j:03d}", "inactive", "Success", vf.ago(8)))
        backups.append({"id": bid, "jobId": jid, "policyUniqueId": "", "name": f"Job {j:03d}",
                        "platformName": "VMware", "platformId": vf.ZERO,
                        "creationTime": vf.stamp(vf.ago(days=200)), "repositoryId": vf.ZERO})
        fake.list(f"backups/{bid}/objects",  # type: ignore[attr-defined]
                  [vf.vm_object(f"{bid[:-3]}{v:03d}", n, f"vm-{j}-{v}")
                   for v, n in enumerate(names)])
        for day in range(DAYS):
            sid = f"s-{j}-{day}"
            bad = (j * DAYS + day) % FAIL_EVERY == 0
            sessions.append(vf.session(sid, f"Job {j:03d}", jid, "BackupJob", vf.ago(8, day),
                                       20, "Failed" if bad else "Success"))
            if bad:
                failed += 1
                fake.list(f"sessions/{sid}/taskSessions",  # type: ignore[attr-defined]
                          [vf.task(f"t-{sid}-{v}", sid, "Backup", n, vf.ago(8, day), 5,
                                   "Failed") for v, n in enumerate(names)])
            else:
                points += [vf.point(f"rp-{j}-{v}-{day}", n, bid, vf.ago(7.9, day), sid)
                           for v, n in enumerate(names)]
    for path, items in (("jobs", jobs), ("jobs/states", states), ("backups", backups),
                        ("sessions", sessions), ("restorePoints", points)):
        fake.list(path, items)  # type: ignore[attr-defined]
    return failed


def measure(latency: float) -> list[Figure]:
    import veeam_fake as vf

    fake = vf.FakeVeeam(cap=LIMIT)
    failed = estate(fake)
    kit.add_latency(fake, latency)
    with kit.serving(lambda: vf.start(fake)):
        (batch, _), seconds = kit.timed(lambda: vf.collect(fake.base, kit.scratch(),
                                                           vf.FakeClock()))
    assert not batch.errors, batch.errors[:3]
    lists = fake.lists
    floor_pages = (1 + 1 + sum(kit.pages(len(lists[f"/api/v1/{p}"]), LIMIT)
                               for p in ("jobs", "jobs/states", "backups", "sessions",
                                         "restorePoints"))
                   + JOBS + failed)
    return [Figure("veeam", len(fake.requests), seconds,
                   floor_seconds(floor_pages, latency, CONCURRENCY))]
