"""A run killed (SIGKILL) at every step of publication leaves history and outputs consistent:
the next run puts it right, succeeds, continues the pack chain and leaves no staging behind.

Each kill uses ``$CLAUSEWATCH_FAULT_AT`` (``core.faults``): the child sends itself SIGKILL when
it reaches the named step, in a real ``clausewatch evaluate`` subprocess; the runs around it
(the one before, the one that puts it right) go through ``cli.main`` in the test's process."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from unattended_kit import (
    BREACHED,
    as_of,
    chain,
    clausewatch,
    history_runs,
    in_process,
    no_traceback,
    published_run,
    write_inputs,
)

from clausewatch.core.faults import FAULT_ENV, STEPS
from clausewatch.history.store import hold
from clausewatch.reports.evidence_pack import open_pack, read_link
from clausewatch.reports.staging import lock_path

#: From this step on the run is journaled: the next start completes it; before, rolls it back.
COMPLETED_FROM = STEPS.index("journal-written")


class Workspace:
    def __init__(self, root: Path, *, pack_history: bool) -> None:
        self.root = root
        self.policy, self.evidence = write_inputs(root / "inputs")
        self.out = root / "site" / "out"
        self.history = root / "state" / "history.sqlite"
        self.packs = root / "state" / "packs" if pack_history else None
        self.night = 0

    def run(self, fault: str | None = None, *, child: bool = False):
        args = ["evaluate", "--policy", str(self.policy), "--evidence", str(self.evidence),
                "--as-of", as_of(self.night), "--out", str(self.out),
                "--history", str(self.history)]
        if self.packs is not None:
            args += ["--pack-history", str(self.packs)]
        self.night += 1
        if fault or child:  # a kill, a signal or another process's lock: a real child
            return clausewatch(*args, env={FAULT_ENV: fault} if fault else None)
        return in_process(*args)

    def leftovers(self) -> list[str]:
        """Anything but the output folder and its lock beside it, and ClauseWatch's own
        entries inside it or in the pack history."""
        found = [p.name for p in self.out.parent.iterdir() if p.name not in {"out", ".out.lock"}]
        found += [p.name for p in self.out.iterdir() if p.name.startswith(".")]
        if self.packs is not None:
            found += [p.name for p in self.packs.iterdir() if p.name.startswith(".")]
        return found


def check_after_kill(w: Workspace, step: str, before: str, published: list[str]) -> None:
    """Right after the kill: the outputs are the previous run's or the new one's, whole, or
    (between the two renames) aside with a journal that completes them; the history holds
    exactly the published runs and at most the killed one, marked unpublished."""
    runs, pending = history_runs(w.history)
    assert runs[: len(published)] == published, step
    killed = runs[len(published):]
    assert len(killed) <= 1 and set(pending) <= set(killed), step
    if STEPS.index(step) < STEPS.index("history-recorded"):
        assert killed == [], step
    current = published_run(w.out) if w.out.exists() else None
    if current is None:
        assert step == "old-moved", f"the output folder is gone after a kill at {step}"
        assert (w.out.parent / ".out.publish.json").is_file()  # the journal says how to finish
    elif current == before:
        assert STEPS.index(step) <= STEPS.index("old-moved"), step
        assert chain(w.out)["run_id"] == before
    else:
        assert killed == [current] and STEPS.index(step) >= STEPS.index("stage-moved"), step
        assert (w.out / "evidence-pack.zip").is_file() and chain(w.out)["run_id"] == current
    if STEPS.index(step) >= STEPS.index("marked-published"):
        assert pending == [], step


def check_consistent(w: Workspace, published: list[str]) -> None:
    """After a successful run: no unpublished run, the outputs are the last run's, every
    published run has a pack and the chain counts them all, nothing staged is left."""
    runs, pending = history_runs(w.history)
    assert pending == [] and runs == published
    assert published_run(w.out) == published[-1]
    link = chain(w.out)
    assert link["sequence"] == len(published)  # one pack per published run, none restarted
    assert link["previous"]["run_id"] == published[-2]
    if w.packs is not None:
        archived = sorted(p.name for p in w.packs.iterdir())
        # one kept zip per published run, named by its chain sequence, none replaced
        assert [name.rsplit("-", 1)[1] for name in archived] == \
            [f"{n:04d}.zip" for n in range(1, len(published) + 1)]
    assert w.leftovers() == []


@pytest.mark.parametrize("pack_history", [True, False], ids=["pack-history", "output-chain"])
def test_a_kill_at_every_step_of_publication_is_put_right_by_the_next_run(tmp_path, pack_history):
    w = Workspace(tmp_path, pack_history=pack_history)
    first = w.run()
    assert first.returncode == BREACHED, first.stderr
    published = [published_run(w.out)]
    steps = [s for s in STEPS if pack_history or s != "archived"]
    for step in steps:
        before = published[-1]
        killed = w.run(fault=step)
        assert killed.returncode == -signal.SIGKILL, (step, killed.stderr)
        check_after_kill(w, step, before, published)
        runs, _ = history_runs(w.history)
        completed = STEPS.index(step) >= COMPLETED_FROM
        if completed:
            published.append(runs[-1])
        nxt = w.run()
        assert nxt.returncode == BREACHED, (step, nxt.stderr)
        no_traceback(nxt)
        published.append(published_run(w.out))
        check_consistent(w, published)  # a killed run not completed was rolled back
    # every kill tried, and the chain never restarted: one pack per published run
    assert chain(w.out)["sequence"] == len(published) == 1 + len(steps) + sum(
        STEPS.index(s) >= COMPLETED_FROM for s in steps
    )


def test_the_final_pack_of_a_recovered_chain_verifies_against_its_predecessor(tmp_path):
    w = Workspace(tmp_path, pack_history=True)
    assert w.run().returncode == BREACHED
    assert w.run(fault="old-moved").returncode == -signal.SIGKILL
    assert w.run().returncode == BREACHED
    assert w.packs is not None
    older, completed, last = sorted(w.packs.iterdir())
    done = clausewatch("verify", str(w.out / "evidence-pack"), "--previous", str(completed))
    assert done.returncode == 0, done.stdout + done.stderr
    assert read_link(completed).sequence == read_link(older).sequence + 1
    with open_pack(completed) as root, open_pack(older) as first:
        assert json.loads((root / "chain.json").read_text())["previous"]["run_id"] == \
            json.loads((first / "chain.json").read_text())["run_id"]


@pytest.mark.parametrize("step", ["gathered", "old-moved", "stage-moved"])
def test_sigterm_stops_before_publication_or_lets_it_finish(tmp_path, step):
    """A SIGTERM before the journal unwinds the run (exit 143, nothing changed); one during
    the renames is held until they are done (exit 143, the run published whole)."""
    w = Workspace(tmp_path, pack_history=False)
    assert w.run().returncode == BREACHED
    before = published_run(w.out)
    done = w.run(fault=f"{step}:TERM")
    assert done.returncode == 143, done.stderr
    err = no_traceback(done)
    runs, pending = history_runs(w.history)
    assert pending == [] and w.leftovers() == []
    if step == "gathered":
        assert "nothing was published" in err
        assert runs == [before] and published_run(w.out) == before
    else:
        assert "the run had just been published" in err
        assert runs == [before, published_run(w.out)] and published_run(w.out) != before


def test_an_overlapping_run_is_refused_before_it_collects(tmp_path):
    """The output folder's lock is held for the whole run: a second run on the same folder
    (even with another history) is refused with exit 2 and writes nothing."""
    w = Workspace(tmp_path, pack_history=False)
    assert w.run().returncode == BREACHED
    before = (w.out / "results.json").read_bytes()
    with hold(w.out, lock_file=lock_path(w.out), what=f"output folder {w.out}"):
        busy = w.run(child=True)
    assert busy.returncode == 2
    assert "is in use by another run (pid" in no_traceback(busy)
    assert (w.out / "results.json").read_bytes() == before
    assert history_runs(w.history)[0] == [published_run(w.out)] and w.leftovers() == []
