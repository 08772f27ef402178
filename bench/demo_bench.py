"""Time ``clausewatch run --demo`` and ``clausewatch --help``, each in a fresh process.

    python bench/demo_bench.py [--runs 3]

Runs the demo ``--runs`` times at a fixed ``--as-of`` into a temporary folder and prints the
median wall time and CPU time (user + system), then the same for ``--help``. Last lines:

    demo: median <s> s wall, <s> s CPU (<n> runs, exit 3)
    help: median <s> s wall, <s> s CPU

Goal (issue 16) on the 2-core reference machine: the demo within 5 s.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AS_OF = "2026-12-01T06:00:00Z"
DEMO = """\
import sys
from clausewatch.cli import main
sys.exit(main(["-q", "run", "--demo", "--as-of", {as_of!r}, "--out", {out!r}]))
"""


def timed(argv: list[str]) -> tuple[float, float, int]:
    """Wall and CPU seconds (user + system, with its children) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "demo")
        code = DEMO.format(as_of=AS_OF, out=out)
        demo = [timed([sys.executable, "-c", code]) for _ in range(args.runs)]
    codes = {c for _, _, c in demo}
    helps = [timed([sys.executable, "-m", "clausewatch", "--help"]) for _ in range(args.runs)]
    print(f"demo: median {statistics.median(w for w, _, _ in demo):.2f} s wall, "
          f"{statistics.median(c for _, c, _ in demo):.2f} s CPU ({args.runs} runs, exit "
          f"{'/'.join(map(str, sorted(codes)))})")
    print(f"help: median {statistics.median(w for w, _, _ in helps):.2f} s wall, "
          f"{statistics.median(c for _, c, _ in helps):.2f} s CPU")


if __name__ == "__main__":
    main()
