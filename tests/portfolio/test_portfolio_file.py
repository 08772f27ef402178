"""The portfolio file and its shards; ``run --portfolio --shard`` into one shared store."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from clausewatch.cli import main
from clausewatch.commands.portfolio_run import shard_exit_code
from clausewatch.core.problems import InputError
from clausewatch.demo.portfolio import contract_text
from clausewatch.history.store import read_history
from clausewatch.pipeline.portfolio_file import load_portfolio, parse_shard


def write_book(tmp: Path, n: int, extra: str = "") -> Path:
    lines = ["version: 1", "history: history.sqlite", "output: out", "contracts:"]
    for i in range(n):
        (tmp / f"c{i}.yaml").write_text(contract_text(i), encoding="utf-8")
        lines += [f"  - contract: c{i}.yaml", "    sources: sources.yaml"]
    (tmp / "sources.yaml").write_text("version: 1\nsources: {veeam: []}\n", encoding="utf-8")
    path = tmp / "portfolio.yaml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_shards_partition_the_entries(tmp_path: Path, count: int) -> None:
    book = load_portfolio(write_book(tmp_path, 10))
    shards = [book.shard(i, count) for i in range(count)]
    indexes = [e.index for s in shards for e in s]
    assert sorted(indexes) == list(range(10))  # each entry in exactly one shard
    assert max(map(len, shards)) - min(map(len, shards)) <= 1
    assert book.shard(0, count) == load_portfolio(tmp_path / "portfolio.yaml").shard(0, count)


@pytest.mark.parametrize("text", ["1", "2/2", "-1/3", "a/b", "0/0"])
def test_bad_shard_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="shard"):
        parse_shard(text)


def test_problems_are_located(tmp_path: Path) -> None:
    path = write_book(tmp_path, 2)
    text = path.read_text().replace("c1.yaml", "missing.yaml")
    path.write_text(text + "  - contract: c0.yaml\n    sources: sources.yaml\n")
    with pytest.raises(InputError) as caught:
        load_portfolio(path)
    messages = [str(p) for p in caught.value.problems]
    assert any("portfolio.yaml:7:" in m and "no such file" in m for m in messages)
    assert any("same output folder" in m for m in messages)


def test_shard_exit_codes() -> None:
    assert shard_exit_code([0, 3, 4]) == 0  # every contract judged: nothing to retry
    assert shard_exit_code([3, 1, 2]) == 2  # configuration first: retrying will not help
    assert shard_exit_code([0, 8, 1]) == 8
    assert shard_exit_code([]) == 0


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"https://127.0.0.1:{s.getsockname()[1]}"


def test_run_shards_into_one_store(tmp_path: Path) -> None:
    path = write_book(tmp_path, 3)  # sources with no collector: judged, without evidence
    codes = [main(["run", "--portfolio", str(path), "--shard", f"{i}/2",
                   "--as-of", "2026-11-21T06:00:00Z"]) for i in range(2)]
    assert codes == [0, 0]  # every contract judged (exit 4 each): nothing to retry
    with read_history(tmp_path / "history.sqlite") as store:
        assert sorted(store.contract_ids()) == ["customer-0000", "customer-0001",
                                                "customer-0002"]
        assert all(len(store.runs(c)) == 1 for c in store.contract_ids())
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) \
        == ["c0", "c1", "c2"]
    assert (tmp_path / "out" / "c1" / "results.json").is_file()


def test_a_misconfigured_source_fails_the_shard_without_retry(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    path = write_book(tmp_path, 2)
    (tmp_path / "sources.yaml").write_text(
        "version: 1\nsources:\n  veeam:\n    - name: vbr\n"
        f"      url: {_dead_url()}\n      username: reader\n      password_env: VBR_PW\n"
        "      retry: {attempts: 1}\n", encoding="utf-8")
    monkeypatch.setenv("VBR_PW", "not-a-real-password-1")
    code = main(["run", "--portfolio", str(path), "--as-of", "2026-11-21T06:00:00Z"])
    assert code == 7  # a configuration problem: the Kubernetes manifests fail the index at once


def test_a_broken_entry_does_not_stop_the_others(tmp_path: Path) -> None:
    path = write_book(tmp_path, 2)
    (tmp_path / "c0.yaml").write_text("contract: {id: [}\n", encoding="utf-8")
    code = main(["run", "--portfolio", str(path), "--as-of", "2026-11-21T06:00:00Z"])
    assert code == 2
    with read_history(tmp_path / "history.sqlite") as store:
        assert store.contract_ids() == ["customer-0001"]
