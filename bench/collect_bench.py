"""Benchmark: every collector against its API request floor.

    python bench/collect_bench.py [--latency 0.05] [--only aws,m365]

Runs ``measure(latency)`` of every ``bench/collect_<source>.py`` module (see collect_common.py)
and prints one line per source:

    collect <source>: <requests> requests, <seconds> s, floor <seconds> s, ratio <x>

Goal: every ratio <= 1.2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from collect_common import Figure  # noqa: E402


def modules(only: set[str] | None) -> list[str]:
    names = sorted(p.stem for p in HERE.glob("collect_*.py")
                   if p.stem not in ("collect_bench", "collect_common"))
    return [n for n in names if only is None or n.removeprefix("collect_") in only]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per request")
    parser.add_argument("--only", default="", help="comma-separated sources (default: all)")
    args = parser.parse_args()
    only = {s.strip() for s in args.only.split(",") if s.strip()} or None
    figures: list[Figure] = []
    for name in modules(only):
        figures.extend(importlib.import_module(name).measure(args.latency))
    for figure in figures:
        print(figure.line())
    return 0 if all(f.ratio <= 1.2 for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
