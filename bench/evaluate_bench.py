"""Benchmark: `clausewatch evaluate` on 1,000,000 patch records over 25,000 assets.

Generates the estate once (bench/out/estate-*.jsonl), then times the real command in a child
process (loading, validation, evaluation and the terminal summary) and reads its peak RSS.
With ``--publish`` the command also writes every output (results.json, reports, evidence pack)
to bench/out/run/. Then it times the floor the reader is measured against: msgspec alone
decoding every line of the same file into plain objects (kept, as the reader keeps its records),
in a child process of its own. The machine may be shared: both are timed in the same session,
and the CPU time (user + system) of each child is printed beside its wall time. The last two
lines are the figures to record in the README:

    floor: msgspec decodes <lines> lines in <seconds> s (CPU <seconds> s), peak RSS <MB> MB
    evaluate: <records> records in <seconds> s (<records/s> records/s), peak RSS <MB> MB,
              CPU <seconds> s, <ratio>x the floor

With ``--publish`` the second is ``evaluate+publish: ...`` and a last line follows, the nightly
path's figure (goal: at most 10 s and 1 GB):

    publish: <records> records in <seconds> s, peak RSS <MB> MB

Usage: python bench/evaluate_bench.py [--assets 25000] [--per-asset 40] [--regenerate] [--publish]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
SEVERITIES = ("critical", "important", "moderate", "low")


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def generate(path: Path, assets: int, per_asset: int) -> int:
    """Write the synthetic estate; return the number of patch records."""
    rng = random.Random(7)
    observed = iso(AS_OF - timedelta(hours=3))
    releases = [AS_OF - timedelta(days=d, hours=rng.randint(0, 23)) for d in range(1, 200)]
    records = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        for a in range(assets):
            subject = f"asset-{a:06d}"
            kind = "server" if a % 5 == 0 else "workstation"
            assessed = iso(AS_OF - timedelta(hours=rng.randint(1, 200)))
            out.write(json.dumps({
                "kind": "asset", "source": "rmm", "subject": subject, "observed_at": observed,
                "origin": f"rmm/site-{a % 40}",
                "facts": {"asset_kind": kind, "name": f"HOST-{a:06d}",
                          "tags": {"site": str(a % 40)}, "patch_assessed_at": assessed}}) + "\n")
            for p in range(per_asset):
                released = rng.choice(releases)
                late = rng.random()
                state = "missing" if late < 0.03 else "installed"
                installed = released + timedelta(days=rng.uniform(0.5, 12 if late < 0.2 else 5))
                facts = {
                    "update_id": f"KB{5000000 + p * 131 + a % 97}", "severity": SEVERITIES[p % 4],
                    "state": state, "released_at": iso(released),
                    "first_seen_at": iso(released + timedelta(hours=6)),
                    "installed_at": iso(installed) if state == "installed" and installed < AS_OF
                    else None,
                    "cves": [f"CVE-2026-{10000 + p}"],
                }
                if facts["installed_at"] is None and state == "installed":
                    facts["state"] = "missing"
                out.write(json.dumps({"kind": "patch", "source": "rmm", "subject": subject,
                                      "observed_at": assessed, "facts": facts}) + "\n")
                records += 1
    return records


#: The floor: msgspec decoding each line into plain objects, all kept (run in a child).
FLOOR = """
import gc, resource, sys, msgspec
gc.disable()
decode = msgspec.json.Decoder().decode
with open(sys.argv[1], "rb") as handle:
    kept = [decode(line) for line in handle if line.strip()]
print(len(kept), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def timed(cmd: list[str]) -> tuple[subprocess.CompletedProcess[str], float, float, float]:
    """Run ``cmd``; its result, wall seconds, CPU seconds and peak RSS (MB) of that child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of the children is the largest of any child so far: run the biggest first.
    return done, seconds, cpu, after.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=25_000)
    parser.add_argument("--per-asset", type=int, default=40)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--publish", action="store_true", help="also write every output")
    args = parser.parse_args()
    estate = HERE / "out" / f"estate-{args.assets}x{args.per_asset}.jsonl"
    records = args.assets * args.per_asset
    if args.regenerate or not estate.exists():
        t0 = time.perf_counter()
        records = generate(estate, args.assets, args.per_asset)
        print(f"generated {records} patch records in {time.perf_counter() - t0:.1f} s: {estate}")
    cmd = [sys.executable, "-m", "clausewatch", "evaluate", "--policy", str(HERE / "contract.yaml"),
           "--evidence", str(estate), "--as-of", iso(AS_OF)]
    if args.publish:
        cmd += ["--out", str(HERE / "out" / "run")]
    done, seconds, cpu, peak_mb = timed(cmd)
    if done.returncode not in (0, 3, 4):
        sys.stderr.write(done.stderr)
        return 1
    floor, floor_s, floor_cpu, _ = timed([sys.executable, "-c", FLOOR, str(estate)])
    if floor.returncode != 0:
        sys.stderr.write(floor.stderr)
        return 1
    lines, floor_kb = (int(n) for n in floor.stdout.split())
    print(f"floor: msgspec decodes {lines} lines in {floor_s:.1f} s "
          f"(CPU {floor_cpu:.1f} s), peak RSS {floor_kb / 1024:.0f} MB")
    what = "evaluate+publish" if args.publish else "evaluate"
    print(f"{what}: {records} records in {seconds:.1f} s ({records / seconds:,.0f} records/s), "
          f"peak RSS {peak_mb:.0f} MB, CPU {cpu:.1f} s, {seconds / floor_s:.1f}x the floor")
    if args.publish:  # the figure of the nightly path (issue 16): goal <= 10 s, <= 1 GB
        print(f"publish: {records} records in {seconds:.1f} s, peak RSS {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
