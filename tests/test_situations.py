"""Every situation through the CLI is a message and a documented exit code, never a traceback:
permission denied, read-only file system, disk full, an output folder that is a mount point,
SIGINT/SIGTERM during the demo and during collection, YAML and zip reading errors located.

Real where the machine allows it (another user for permissions; a private mount namespace,
``unshare -rm``, for a read-only file system, a full tmpfs and a mount point), and by an
injected ``OSError`` at the layer that meets it otherwise."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Iterator
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

from clausewatch.cli import main

UNWRITABLE, INTERRUPTED, TERMINATED = 8, 130, 143


def _unshare_works() -> bool:
    if shutil.which("unshare") is None or sys.platform != "linux":
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
                           capture_output=True, check=False)
    return probe.returncode == 0


MOUNTS = _unshare_works()
needs_mounts = pytest.mark.skipif(not MOUNTS, reason="no private mount namespace here")


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder every user can reach (pytest's own is private to its user)."""
    path = Path(tempfile.mkdtemp(prefix="cw-situations-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    for p in path.rglob("*"):
        if p.is_dir():
            p.chmod(0o755)
    shutil.rmtree(path, ignore_errors=True)


def evaluate_args(policy: Path, evidence: Path, out: Path, *more: str, night: int = 0) -> list[str]:
    return ["evaluate", "--policy", str(policy), "--evidence", str(evidence),
            "--as-of", as_of(night), "--out", str(out), *more]


def as_another_user(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the CLI subject to file permissions: as root, without the capabilities that
    override them (``setpriv``); otherwise as this user."""
    if os.geteuid() != 0:
        return clausewatch(*args)
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be enforced")
    return clausewatch(*args, prefix=("setpriv", "--bounding-set",
                                      "-dac_override,-dac_read_search,-fowner"))


# --- permission denied ------------------------------------------------------------------------


def test_an_output_folder_without_write_permission_exits_8(shared):
    policy, evidence = write_inputs(shared / "inputs")
    for p in (policy, evidence):
        p.chmod(0o644)
    (shared / "inputs").chmod(0o755)
    locked = shared / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    done = as_another_user(evaluate_args(policy, evidence, locked / "out"))
    assert done.returncode == UNWRITABLE, done.stderr
    err = no_traceback(done)
    assert "Permission denied" in err and "nothing was published" in err
    assert list(locked.iterdir()) == []


def test_a_history_store_without_write_permission_exits_8(shared):
    policy, evidence = write_inputs(shared / "inputs")
    (shared / "inputs").chmod(0o755)
    for p in (policy, evidence):
        p.chmod(0o644)
    state = shared / "state"
    state.mkdir()
    state.chmod(0o777)
    out = state / "out"
    history = shared / "ro" / "history.sqlite"
    history.parent.mkdir()
    history.parent.chmod(0o555)
    done = as_another_user(evaluate_args(policy, evidence, out, "--history", str(history)))
    assert done.returncode == UNWRITABLE, done.stderr
    assert "history store" in no_traceback(done)
    assert not out.exists() and not history.exists()


def test_a_read_only_history_file_exits_8(shared):
    policy, evidence = write_inputs(shared / "inputs")
    (shared / "inputs").chmod(0o755)
    for p in (policy, evidence):
        p.chmod(0o644)
    state = shared / "state"
    state.mkdir()
    history = state / "history.sqlite"
    assert in_process(*evaluate_args(policy, evidence, state / "first",
                                     "--history", str(history))).returncode == BREACHED
    state.chmod(0o777)
    (state / "history.sqlite.lock").chmod(0o666)
    history.chmod(0o444)
    done = as_another_user(evaluate_args(policy, evidence, state / "out",
                                         "--history", str(history), night=1))
    assert done.returncode == UNWRITABLE, done.stderr
    assert "readonly" in no_traceback(done)
    assert not (state / "out").exists()
    history.chmod(0o644)
    assert len(history_runs(history)[0]) == 1


# --- read-only file system, disk full, mount point (a private mount namespace) ----------------


def in_namespace(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (sh) as root of a private user and mount namespace; "$@" is ``args``."""
    env = {**os.environ, "COLUMNS": "100"}
    return subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", *args],
                          capture_output=True, text=True, timeout=300, env=env, check=False)


CLI = [sys.executable, "-m", "clausewatch"]


@needs_mounts
def test_a_read_only_file_system_exits_8(tmp_path):
    policy, evidence = write_inputs(tmp_path / "inputs")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = in_namespace(
        f'mount -t tmpfs tmpfs {mnt} && mount -o remount,ro {mnt} && exec "$@"',
        *CLI, *evaluate_args(policy, evidence, mnt / "out"),
    )
    assert done.returncode == UNWRITABLE, done.stderr
    assert "Read-only file system" in no_traceback(done)


@needs_mounts
def test_a_full_disk_exits_8_and_leaves_no_staging_copy(tmp_path):
    policy, evidence = write_inputs(tmp_path / "inputs")
    mnt, listing = tmp_path / "mnt", tmp_path / "listing"
    mnt.mkdir()
    done = in_namespace(
        f'mount -t tmpfs -o size=48k tmpfs {mnt} && "$@"; rc=$?; ls -A {mnt} > {listing}; '
        "exit $rc",
        *CLI, *evaluate_args(policy, evidence, mnt / "out"),
    )
    assert done.returncode == UNWRITABLE, done.stderr
    assert "No space left on device" in no_traceback(done)
    assert listing.read_text().split() == [".out.lock"]  # no staging folder, no half output


@needs_mounts
def test_an_output_folder_that_is_a_mount_point_is_published_inside_it(tmp_path):
    """``docker -v host:/out``: the folder cannot be renamed; ClauseWatch writes inside it,
    twice (the second run replaces the first), and leaves no staging copy anywhere."""
    policy, evidence = write_inputs(tmp_path / "inputs")
    site = tmp_path / "site"
    out, keep = site / "out", tmp_path / "keep"
    out.mkdir(parents=True)
    keep.mkdir()
    run1 = " ".join(CLI + evaluate_args(policy, evidence, out, night=0))
    run2 = " ".join(CLI + evaluate_args(policy, evidence, out, night=1))
    done = in_namespace(
        f"mount -t tmpfs tmpfs {out} || exit 99; {run1} >/dev/null; echo $? > {keep}/rc1; "
        f"cp {out}/results.json {keep}/first.json; {run2} >/dev/null; rc=$?; "
        f"ls -A {out} > {keep}/inside; cp -r {out}/evidence-pack {out}/results.json {keep}/; "
        "exit $rc",
    )
    assert (keep / "rc1").read_text().strip() == str(BREACHED), done.stderr
    assert done.returncode == BREACHED, done.stdout + done.stderr
    no_traceback(done)
    inside = set((keep / "inside").read_text().split())
    assert ".clausewatch-lock" in inside and "results.json" in inside
    assert not [n for n in inside if n.startswith(".clausewatch-") and n != ".clausewatch-lock"]
    assert sorted(p.name for p in site.iterdir()) == ["out"]  # nothing staged beside it
    first = json.loads((keep / "first.json").read_text())["run"]["run_id"]
    assert published_run(keep) != first
    assert chain(keep)["sequence"] == 2 and chain(keep)["previous"]["run_id"] == first


def test_a_rename_refused_with_ebusy_publishes_inside_the_folder(tmp_path, monkeypatch, capsys):
    """A bind mount ``ismount`` cannot see: the rename fails with EBUSY at publication; the
    stage is copied in, the previous entries moved aside, and nothing is left behind."""
    policy, evidence = write_inputs(tmp_path / "inputs")
    out = tmp_path / "site" / "out"
    assert main(evaluate_args(policy, evidence, out)) == BREACHED
    first = published_run(out)
    real = os.replace

    def busy(src, dst, *a, **kw):
        if Path(src) == out.resolve():
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(src))
        return real(src, dst, *a, **kw)

    monkeypatch.setattr(os, "replace", busy)
    assert main(evaluate_args(policy, evidence, out, night=1)) == BREACHED
    assert published_run(out) not in (None, first)
    assert chain(out)["sequence"] == 2
    assert sorted(p.name for p in out.parent.iterdir()) == [".out.lock", "out"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    assert "Traceback" not in capsys.readouterr().err


def test_disk_full_while_writing_a_report_exits_8_and_keeps_the_previous_outputs(
    tmp_path, monkeypatch, capsys
):
    policy, evidence = write_inputs(tmp_path / "inputs")
    out = tmp_path / "site" / "out"
    assert main(evaluate_args(policy, evidence, out)) == BREACHED
    before = (out / "results.json").read_bytes()
    real = Path.write_bytes

    def full(self, data):
        if self.name == "report.html":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    assert main(evaluate_args(policy, evidence, out, night=1)) == UNWRITABLE
    err = capsys.readouterr().err
    assert "No space left on device" in err and "report.html" in err and "Traceback" not in err
    assert (out / "results.json").read_bytes() == before
    assert sorted(p.name for p in out.parent.iterdir()) == [".out.lock", "out"]


# --- SIGINT / SIGTERM -------------------------------------------------------------------------


def wait_for(predicate, child: subprocess.Popen[str]) -> None:
    """Wait until ``predicate()`` or the child ends (then the test fails, saying so)."""
    import time

    while not predicate():
        assert child.poll() is None, "the child finished before the signal could be sent"
        time.sleep(0.02)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_the_demo_stops_it_and_leaves_the_previous_outputs(tmp_path, sig,
                                                                          demo_run):
    out = tmp_path / "demo"
    # the previous outputs: a copy of the session's demo, as of 2026-11-22 (tests/conftest.py)
    assert demo_run.code == BREACHED
    shutil.copytree(demo_run.out, out)
    before = (out / "results.json").read_bytes()
    child = subprocess.Popen(
        [sys.executable, "-m", "clausewatch", "run", "--demo", "--as-of", "2026-11-23T06:00:00Z",
         "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    # the demo's back-filled history is written inside the stage: it is mid-run then
    wait_for(lambda: any(tmp_path.glob(".demo.staging-*/history.sqlite")), child)
    child.send_signal(sig)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 128 + sig, err
    assert "Traceback" not in err and f"{sig.name} received" in err
    assert "nothing was published" in err
    assert (out / "results.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".demo.lock", "demo"]


class HangingServer:
    """A TCP server on 127.0.0.1 that accepts requests and never answers."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.asked = threading.Event()
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            conn.recv(65536)
            self.asked.set()

    def close(self) -> None:
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_collection_stops_promptly_and_changes_nothing(tmp_path, sig):
    """A collector waits on a server that never answers (its read timeout is 120 s): the
    signal stops the run at once, with the collector still waiting; no history, no output."""
    policy, _ = write_inputs(tmp_path / "inputs")
    server = HangingServer()
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "version: 1\nsources:\n  veeam:\n"
        f"    - {{name: vbr01, url: '{server.url}', username: svc, password_env: VBR_PW,\n"
        "       server_timezone: Europe/Paris, timeouts: {read: 120, connect: 5},\n"
        "       retry: {attempts: 1}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-m", "clausewatch", "run", "--policy", str(policy), "--sources",
         str(sources), "--out", str(out), "--as-of", as_of(0)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "VBR_PW": "pw-not-real"},
    )
    try:
        wait_for(server.asked.is_set, child)
        child.send_signal(sig)
        _, err = child.communicate(timeout=60)  # far below the collector's 120 s read timeout
    finally:
        server.close()
    assert child.returncode == 128 + sig, err
    assert "Traceback" not in err and "nothing was published" in err
    assert not out.exists()
    history = tmp_path / "clausewatch-history.sqlite"
    assert not history.exists() or history_runs(history)[0] == []
    assert not list(tmp_path.glob(".out.staging-*"))


# --- YAML and zip reading errors, located -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("contract.yaml", "contract:\n  id: k\n\tx: 1\n", ":3:1:"),
        ("contract.yaml", b"contract:\n  id: \xff\n", ":2:"),
        ("sources.yaml", "version: 1\nsources:\n  aws: [\n", ":4:1:"),
        ("alerts.yaml", "alerts:\n  channels:\n    - {name: a, type: webhook, url: x\n", ":4:1:"),
    ],
    ids=["tab", "non-utf8", "sources-unclosed", "alerts-unclosed"],
)
def test_yaml_errors_are_located_and_exit_2(tmp_path, name, text, where):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    if name == "alerts.yaml":
        policy, evidence = write_inputs(tmp_path / "inputs")
        done = clausewatch("evaluate", "--policy", str(policy), "--evidence", str(evidence),
                           "--alerts", str(path), "--history", str(tmp_path / "h.sqlite"))
    else:
        done = clausewatch("validate", str(path))
    assert done.returncode == 2, done.stderr
    err = no_traceback(done)
    assert f"{path}{where}" in err, err


def corrupt_member(zip_path: Path, member: str) -> Path:
    """Flip one byte inside ``member``'s compressed data (its CRC-32 no longer matches)."""
    with zipfile.ZipFile(zip_path) as zf:
        info = zf.getinfo(member)
    data = bytearray(zip_path.read_bytes())
    header = info.header_offset
    name_len = int.from_bytes(data[header + 26:header + 28], "little")
    extra_len = int.from_bytes(data[header + 28:header + 30], "little")
    at = header + 30 + name_len + extra_len + info.compress_size // 2
    data[at] ^= 0x01
    bad = zip_path.with_name("corrupt.zip")
    bad.write_bytes(bytes(data))
    return bad


def test_a_corrupt_byte_in_a_zipped_pack_is_named_exit_5_in_verify_2_elsewhere(tmp_path):
    policy, evidence = write_inputs(tmp_path / "inputs")
    out = tmp_path / "out"
    assert in_process(*evaluate_args(policy, evidence, out)).returncode == BREACHED
    member = "evidence-pack/results/results.json"
    bad = corrupt_member(out / "evidence-pack.zip", member)
    done = clausewatch("verify", str(bad))
    assert done.returncode == 5, done.stdout + done.stderr
    assert f"{member.split('/', 1)[1]}" in done.stdout or member in done.stdout
    assert "corrupt in the zip" in done.stdout and "NOT VERIFIED" in done.stdout
    no_traceback(done)
    chained = clausewatch(*evaluate_args(policy, evidence, tmp_path / "next", "--previous-pack",
                                         str(bad), night=1))
    assert chained.returncode == 2, chained.stderr
    assert member in no_traceback(chained) and not (tmp_path / "next").exists()
