"""Benchmark: publishing alone, in-process, on the records of bench/evaluate_bench.py.

Reads and evaluates the estate once (not timed), then times ``reports.publish.publish_run``
into a temporary folder, and the parts of it, by wrapping the functions it calls: the wall
time of each part and the CPU time of the main thread in it (``time.thread_time``: the zip's
thread, on the second core, is not counted there). The first line gives the whole: wall, CPU
of the process (every thread) and of the main thread:

    publishing: wall <s> s, CPU <s> s (main thread <s> s, other threads <s> s)
      write evidence.jsonl   wall <s>  main-thread CPU <s>
      ...

Usage: python bench/publish_split.py [--assets 25000] [--per-asset 40]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evaluate_bench import AS_OF, HERE, generate

from clausewatch.checks.engine import evaluate
from clausewatch.collectors.jsonl import read_evidence
from clausewatch.commands.common import read_contract
from clausewatch.core.run import RunInfo
from clausewatch.reports import evidence_pack, pack_zip, publish
from clausewatch.reports.formats import FORMATS
from clausewatch.reports.pack_options import PackOptions

SPLIT: dict[str, list[float]] = {}


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``, adding its wall time and the calling thread's CPU time to ``SPLIT[name]``."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            part = SPLIT.setdefault(name, [0.0, 0.0])
            part[0] += time.perf_counter() - wall
            part[1] += time.thread_time() - cpu
    return wrapper


def instrument() -> None:
    """Wrap the parts of publishing where ``reports.publish`` and the pack look them up."""
    write = publish.write_stream
    publish.write_stream = lambda chunks, *paths, **kw: timed(  # type: ignore[assignment]
        f"write {paths[0].name}", write)(chunks, *paths, **kw)
    for fmt in FORMATS:
        object.__setattr__(fmt, "fn", timed(f"report {fmt.name}", fmt.fn))  # type: ignore[attr-defined]
    evidence_pack._run_metadata = timed("run.json", evidence_pack._run_metadata)
    evidence_pack._assert_no_leak = timed("pack leak scan", evidence_pack._assert_no_leak)
    publish.build_pack = timed("pack (all of build_pack)", publish.build_pack)
    zipping = pack_zip.PackZip
    if hasattr(zipping, "followed_sha256"):
        zipping.followed_sha256 = timed(  # type: ignore[method-assign]
            "wait for evidence.jsonl's digest", zipping.followed_sha256)
    zipping.finish = timed("zip: the rest, and waiting", zipping.finish)  # type: ignore[method-assign]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=25_000)
    parser.add_argument("--per-asset", type=int, default=40)
    args = parser.parse_args()
    estate = HERE / "out" / f"estate-{args.assets}x{args.per_asset}.jsonl"
    if not estate.exists():
        generate(estate, args.assets, args.per_asset)
    contract, contract_bytes = read_contract(HERE / "contract.yaml")
    batch = read_evidence(estate)
    ev = evaluate(contract, batch.evidence, batch.errors, AS_OF)
    info = RunInfo(as_of=AS_OF, started_at=AS_OF, finished_at=AS_OF, command="evaluate",
                   inputs={"policy": "contract.yaml", "evidence": estate.name})
    records = [*batch.evidence, *batch.errors]
    instrument()
    stage = Path(tempfile.mkdtemp(prefix="publish-split-"))
    try:
        wall, cpu, main_cpu = time.perf_counter(), time.process_time(), time.thread_time()
        publish.publish_run(stage, ev, info, records, contract_bytes,
                            PackOptions(host={"hostname": "bench"}))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        main_cpu = time.thread_time() - main_cpu
    finally:
        shutil.rmtree(stage)
    print(f"publishing: wall {wall:.2f} s, CPU {cpu:.2f} s (main thread {main_cpu:.2f} s, "
          f"other threads {cpu - main_cpu:.2f} s)")
    for name, (part_wall, part_cpu) in SPLIT.items():
        print(f"  {name:34s} wall {part_wall:5.2f}  main-thread CPU {part_cpu:5.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
