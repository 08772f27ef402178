"""The repository root is the `clausewatch` package: every sub-package must ship in the wheel."""

from __future__ import annotations

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
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                    str(tmp_path), str(REPO)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("clausewatch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in on_disk_packages():
        path = package.replace(".", "/")
        assert any(n.startswith(path + "/") for n in names), package
    for data in ("clausewatch/policies/schema/contract.schema.json",
                 "clausewatch/collectors/schema/evidence.py",
                 "clausewatch/core/kinds/patch.py",
                 "clausewatch/reports/results.schema.json",
                 "clausewatch/policies/examples/infogerance-fr.yaml",
                 "clausewatch/cli.py", "clausewatch/__main__.py", "clausewatch/py.typed"):
        assert data in names
    assert not any(n.startswith(("clausewatch/tests/", "clausewatch/bench/")) for n in names)
