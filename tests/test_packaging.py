"""The repository root is the `clausewatch` package: every sub-package must ship in the wheel."""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import sys
import tomllib
import zipfile

from builders import REPO

NOT_SHIPPED = {"tests", "build", "dist", "bench", "docs", ".venv", "venv"}


def on_disk_packages() -> set[str]:
    found = {"clausewatch"}
    for init in REPO.glob("*/**/__init__.py"):
        parts = init.relative_to(REPO).parts
        if parts[0] in NOT_SHIPPED or parts[0].startswith("."):
            continue
        found.add(".".join(("clausewatch", *parts[:-1])))
    return found


def test_every_subpackage_is_listed_in_pyproject():
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    missing = sorted(on_disk_packages() - listed)
    assert not missing, f"add to [tool.setuptools].packages in pyproject.toml: {missing}"


def test_wheel_contains_every_subpackage_and_data_file(tmp_path):
    # Built from a copy: setuptools leaves a build/ folder beside the sources it builds.
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
        ".venv", "venv", ".git", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"))
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                    str(tmp_path), str(src)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("clausewatch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in on_disk_packages():
        path = package.replace(".", "/")
        assert any(n.startswith(path + "/") for n in names), package
    # Every data file the package-data globs name on disk is in the wheel (templates, schemas).
    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]
    expected = set()
    for package, patterns in data.items():
        folder = REPO.joinpath(*package.split(".")[1:])
        for pattern in patterns:
            for file in folder.glob(pattern):
                expected.add("/".join(("clausewatch", *file.relative_to(REPO).parts)))
    assert any(fnmatch.fnmatch(n, "clausewatch/reports/templates/*.j2") for n in expected)
    assert not sorted(expected - names), "package data missing from the wheel"
    for module in ("clausewatch/cli.py", "clausewatch/__main__.py", "clausewatch/py.typed",
                   "clausewatch/collectors/schema/evidence.py", "clausewatch/core/kinds/patch.py"):
        assert module in names
    assert not any(n.startswith(("clausewatch/tests/", "clausewatch/bench/")) for n in names)
