"""Output files: atomic replace for regular files, devices and FIFOs written through.

Devices are copies made with ``mknod`` (``c 1 3`` behaves as /dev/null,
``c 1 7`` as /dev/full) and FIFOs with ``mkfifo``, always in a temporary
folder: the real /dev is never written.
"""

from __future__ import annotations

import fcntl
import io
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from limits import PACKAGE_ROOT

from transpose_matrix import ConvSpecTypeError, OutputPathError
from transpose_matrix import io as tio
from transpose_matrix.io import (
    STALE_SECONDS,
    TEMPORARY_NAME,
    remove_stale_temporaries,
    write_bytes_atomic,
    write_output,
    write_text_atomic,
)

ROOT = os.geteuid() == 0


def needs_root(reason: str):
    return pytest.mark.skipif(not ROOT, reason=f"{reason} needs root")


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ------------------------------------------------------------------ regular files


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644, 0o755, 0o2750])
def test_replacing_a_file_keeps_its_mode(tmp_path, mode):
    target = tmp_path / "out.tex"
    target.write_text("old")
    os.chmod(target, mode)
    old_inode = target.stat().st_ino
    write_text_atomic(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == mode
    # A new file took its place (the rename is what makes it atomic).
    assert target.stat().st_ino != old_inode
    assert names(tmp_path) == ["out.tex"]


def test_a_new_file_gets_the_mode_open_would_give(tmp_path):
    old = os.umask(0o027)
    try:
        write_text_atomic(tmp_path / "new.tex", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.tex").stat().st_mode) == 0o640


@needs_root("chown to another user")
def test_replacing_a_file_keeps_its_owner(tmp_path):
    target = tmp_path / "owned.tex"
    target.write_text("old")
    os.chown(target, 1234, 5678)
    write_text_atomic(target, "new")
    info = target.stat()
    assert (info.st_uid, info.st_gid) == (1234, 5678)


def test_text_is_utf8_and_exact(tmp_path):
    text = "Cᵀ = D·P·Z\r\nno newline translation\n"
    write_text_atomic(tmp_path / "u.tex", text)
    assert (tmp_path / "u.tex").read_bytes() == text.encode("utf-8")


def test_text_must_be_a_string(tmp_path):
    with pytest.raises(ConvSpecTypeError, match="text must be a str, not bytes"):
        write_text_atomic(tmp_path / "b.tex", b"x")
    assert names(tmp_path) == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "f.tex"
    target.write_text("old")

    def disk_full(handle, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tio, "_write_all", disk_full)
    with pytest.raises(OutputPathError, match="cannot be written: No space left on device"):
        write_text_atomic(target, "new")
    assert target.read_text() == "old"
    assert names(tmp_path) == ["f.tex"]


def test_an_interrupt_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "f.tex"
    target.write_text("old")

    def interrupted(handle):
        raise KeyboardInterrupt

    monkeypatch.setattr(tio.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(target, "new")
    assert target.read_text() == "old"
    assert names(tmp_path) == ["f.tex"]


def test_a_file_the_user_may_not_write_is_not_replaced(tmp_path, monkeypatch):
    # A rename would get past a read-only file (only the folder's permission
    # counts); the writer asks first, as open() would. Root may write
    # anything, so the answer "no" is simulated here.
    target = tmp_path / "ro.tex"
    target.write_text("old")
    os.chmod(target, 0o444)
    asked = []
    monkeypatch.setattr(tio.os, "access", lambda path, mode: asked.append(path) or False)
    with pytest.raises(OutputPathError, match="ro.tex' cannot be written: Permission denied"):
        write_text_atomic(target, "new")
    assert asked == [str(target)]
    assert target.read_text() == "old" and names(tmp_path) == ["ro.tex"]


# ------------------------------------------------------------------ symbolic links


def test_a_symlink_keeps_being_a_link_and_its_target_is_replaced(tmp_path):
    elsewhere = tmp_path / "real"
    elsewhere.mkdir()
    target = elsewhere / "notes.tex"
    target.write_text("old")
    os.chmod(target, 0o600)
    link = tmp_path / "link.tex"
    link.symlink_to(Path("real") / "notes.tex")  # relative link
    chain = tmp_path / "chain.tex"
    chain.symlink_to(link)  # a link to a link
    write_text_atomic(link, "through the link")
    assert link.is_symlink() and os.readlink(link) == str(Path("real") / "notes.tex")
    assert target.read_text() == "through the link"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    write_text_atomic(chain, "through the chain")
    assert chain.is_symlink() and link.is_symlink()
    assert target.read_text() == "through the chain"
    # The temporary file lived beside the target, so no stray file anywhere.
    assert names(tmp_path) == ["chain.tex", "link.tex", "real"]
    assert names(elsewhere) == ["notes.tex"]


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.tex"
    link.symlink_to("made.tex")
    write_text_atomic(link, "x")
    assert link.is_symlink() and (tmp_path / "made.tex").read_text() == "x"


# -------------------------------------------------- devices, FIFOs, descriptors


@needs_root("mknod")
def test_a_null_device_is_written_through_not_replaced(tmp_path):
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    inode = os.lstat(null).st_ino
    assert write_text_atomic(null, "discarded") == null
    assert write_output(str(null), "discarded again") == null
    info = os.lstat(null)
    assert stat.S_ISCHR(info.st_mode) and info.st_ino == inode
    assert os.major(info.st_rdev) == 1 and os.minor(info.st_rdev) == 3
    assert names(tmp_path) == ["null"]


@needs_root("mknod")
def test_a_full_device_gives_no_space_and_stays_a_device(tmp_path):
    full = tmp_path / "full"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    with pytest.raises(OutputPathError) as caught:
        write_text_atomic(full, "x" * 10_000)
    assert str(caught.value) == f"output path {str(full)!r} cannot be written: No space left on device"
    assert stat.S_ISCHR(os.lstat(full).st_mode)
    assert names(tmp_path) == ["full"]


@needs_root("mknod")
def test_a_symlink_to_a_device_writes_through(tmp_path):
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    (tmp_path / "out").symlink_to(null)
    write_text_atomic(tmp_path / "out", "x")
    assert (tmp_path / "out").is_symlink() and stat.S_ISCHR(os.lstat(null).st_mode)


def test_a_fifo_is_written_through(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    write_text_atomic(fifo, "through the pipe\n")
    reader.join(timeout=30)
    assert received == ["through the pipe\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert names(tmp_path) == ["pipe"]


CHILD = textwrap.dedent(
    """
    import sys
    from transpose_matrix.io import write_text_atomic
    print("before")
    write_text_atomic(sys.argv[1], "written\\n")
    print("after")
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/dev/stdout", "/proc/self/fd/1", "/dev/fd/1"])
@pytest.mark.parametrize("stdout", ["pipe", "file"])
def test_descriptor_paths_write_through_the_descriptor(tmp_path, path, stdout):
    # Written at the descriptor's own position, in order with print(); a
    # regular file behind it is neither truncated nor replaced.
    env = {**os.environ, "PYTHONPATH": PACKAGE_ROOT}
    if stdout == "pipe":
        result = subprocess.run([sys.executable, "-c", CHILD, path], capture_output=True,
                                text=True, env=env, timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "before\nwritten\nafter\n"
        return
    out = tmp_path / "captured.txt"
    with open(out, "w") as handle:
        inode = os.fstat(handle.fileno()).st_ino
        result = subprocess.run([sys.executable, "-c", CHILD, path], stdout=handle,
                                stderr=subprocess.PIPE, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert out.read_text() == "before\nwritten\nafter\n"
    assert out.stat().st_ino == inode
    assert names(tmp_path) == ["captured.txt"]


def test_dash_means_standard_output(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert write_output("-", "to stdout\n") is None
    assert capsys.readouterr().out == "to stdout\n"
    stream = io.StringIO()
    write_output("-", "to a stream", stdout=stream)
    assert stream.getvalue() == "to a stream"
    assert names(tmp_path) == []
    # Only the string "-" is standard output; a Path named "-" is a file.
    write_output(Path("-"), "a file named dash")
    assert (tmp_path / "-").read_text() == "a file named dash"


def test_standard_output_errors_are_clean_and_closed_pipes_are_the_callers():
    class Full(io.StringIO):
        def write(self, text):
            raise OSError(28, "No space left on device")

    class Closed(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(OutputPathError, match="standard output cannot be written: No space left"):
        write_output("-", "x", stdout=Full())
    with pytest.raises(BrokenPipeError):
        write_output("-", "x", stdout=Closed())


# ------------------------------------------------------------------ names


@pytest.mark.parametrize("length", [245, 250, 254, 255])
@pytest.mark.parametrize("letter", ["a", "é"])  # one and two bytes in UTF-8
def test_names_up_to_name_max_work(tmp_path, monkeypatch, length, letter):
    name = letter * (length // len(letter.encode()))
    name += "b" * (length - len(name.encode()))
    assert len(name.encode()) == length
    made = []
    original = tio._temporary_name

    def recording(target, folder):
        made.append(original(target, folder))
        return made[-1]

    monkeypatch.setattr(tio, "_temporary_name", recording)
    write_text_atomic(tmp_path / name, "x")
    assert (tmp_path / name).read_text() == "x"
    assert names(tmp_path) == [name]
    temporary = os.path.basename(made[0])
    assert len(os.fsencode(temporary)) <= 255
    assert TEMPORARY_NAME.fullmatch(temporary)


def test_temporary_names_are_recognisable(tmp_path, monkeypatch):
    made = []
    original = tio._temporary_name
    monkeypatch.setattr(tio, "_temporary_name",
                        lambda target, folder: made.append(original(target, folder)) or made[-1])
    write_text_atomic(tmp_path / "notes.tex", "x")
    name = os.path.basename(made[0])
    assert name.startswith(".notes.tex.tm-") and name.endswith(".tmp") and len(name) == 24
    assert TEMPORARY_NAME.fullmatch(name)


# ------------------------------------------------------------------ leftovers


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def test_stale_temporaries_are_removed_on_the_next_write(tmp_path):
    old = tmp_path / ".notes.tex.tm-AbC123.tmp"
    # A young leftover of the file being written goes too (its writer was
    # killed); a young one of another file may be a live writer's: it stays.
    own_fresh = tmp_path / ".notes.tex.tm-Fresh2.tmp"
    fresh = tmp_path / ".other.tex.tm-Fresh1.tmp"
    locked = tmp_path / ".other.tex.tm-Lock99.tmp"
    unrelated = [tmp_path / ".notes.tex.tmp", tmp_path / "x.tm-abcdef.tmp", tmp_path / ".a.tm-abc.tmp"]
    folder = tmp_path / ".dir.tm-Dir123.tmp"
    link = tmp_path / ".link.tm-Link12.tmp"
    for path in (old, own_fresh, fresh, locked, *unrelated):
        path.write_text("leftover")
    folder.mkdir()
    link.symlink_to(old)
    for path in (old, locked, *unrelated, folder, link):
        _age(path, STALE_SECONDS + 60)
    _age(fresh, STALE_SECONDS - 60)
    _age(own_fresh, 1)
    # A live writer holds a lock on its temporary file.
    holder = os.open(locked, os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        write_text_atomic(tmp_path / "notes.tex", "x")
    finally:
        os.close(holder)
    remaining = set(names(tmp_path))
    assert old.name not in remaining and own_fresh.name not in remaining
    assert {fresh.name, locked.name, folder.name, link.name, "notes.tex"} <= remaining
    assert {p.name for p in unrelated} <= remaining


def test_remove_stale_temporaries_reports_what_it_removed(tmp_path):
    stale = tmp_path / ".a.tex.tm-zzzzzz.tmp"
    stale.write_text("x")
    assert remove_stale_temporaries(str(tmp_path), now=time.time() + STALE_SECONDS + 1) == [
        str(stale)
    ]
    assert remove_stale_temporaries(str(tmp_path / "missing")) == []


def test_a_killed_writer_leaves_a_temporary_the_next_write_removes(tmp_path):
    # The child hangs in fsync (after writing, before the rename) and is
    # killed with SIGKILL: its temporary file stays behind, unlocked.
    code = textwrap.dedent(
        """
        import os, sys, time
        from transpose_matrix import io
        def hang(fd):
            print("writing", flush=True)
            time.sleep(600)
        io.os.fsync = hang
        io.write_text_atomic(sys.argv[1], "never finished")
        """
    )
    target = tmp_path / "notes.tex"
    target.write_text("old")
    child = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE,
                             text=True, env={**os.environ, "PYTHONPATH": PACKAGE_ROOT})
    try:
        assert child.stdout.readline() == "writing\n"
        leftovers = [p for p in tmp_path.iterdir() if TEMPORARY_NAME.fullmatch(p.name)]
        assert len(leftovers) == 1
        # While the writer lives, even an old temporary is in use.
        _age(leftovers[0], STALE_SECONDS + 60)
        assert remove_stale_temporaries(str(tmp_path)) == []
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    assert target.read_text() == "old"
    assert leftovers[0].exists()
    # The next write of the same file reaps it at once, however young.
    _age(leftovers[0], 1)
    write_text_atomic(target, "new")
    assert names(tmp_path) == ["notes.tex"] and target.read_text() == "new"


def test_a_locked_temporary_of_the_same_target_is_left_to_its_writer(tmp_path):
    target = tmp_path / "notes.tex"
    live = tmp_path / ".notes.tex.tm-Live01.tmp"
    live.write_text("being written")
    holder = os.open(live, os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        write_text_atomic(target, "x")
        assert live.exists()
    finally:
        os.close(holder)
    assert remove_stale_temporaries(str(tmp_path), target=str(target)) == [str(live)]


# ------------------------------------------------ descriptors, in this process


@pytest.mark.parametrize("form", ["/dev/fd/{fd}", "/proc/self/fd/{fd}", "/proc/{pid}/fd/{fd}"])
def test_own_descriptor_paths_write_into_the_descriptor(form):
    read_end, write_end = os.pipe()
    try:
        path = form.format(fd=write_end, pid=os.getpid())
        assert write_text_atomic(path, "into the pipe") == Path(path)
        os.close(write_end)
        write_end = None
        assert os.read(read_end, 100) == b"into the pipe"
    finally:
        os.close(read_end)
        if write_end is not None:
            os.close(write_end)


def test_a_closed_own_descriptor_is_a_clean_error():
    read_end, write_end = os.pipe()
    os.close(read_end)
    os.close(write_end)
    with pytest.raises(OutputPathError, match=r"'/dev/fd/\d+' cannot be written: Bad file descriptor"):
        write_text_atomic(f"/dev/fd/{write_end}", "x")


def test_another_process_s_descriptor_is_opened_and_written(tmp_path):
    # /proc/PID/fd/1 of a child whose stdout is a regular file: the file is
    # written through that path (truncated, as `> /proc/PID/fd/1` would),
    # never replaced by a new inode.
    out = tmp_path / "child-stdout"
    with open(out, "w") as handle:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], stdout=handle)
    try:
        inode = out.stat().st_ino
        write_text_atomic(f"/proc/{child.pid}/fd/1", "written from outside\n")
        assert out.read_text() == "written from outside\n" and out.stat().st_ino == inode
    finally:
        child.kill()
        child.wait(timeout=30)
    assert names(tmp_path) == ["child-stdout"]


@needs_root("mknod")
def test_a_device_without_a_driver_is_a_clean_error(tmp_path):
    node = tmp_path / "nodriver"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(240, 77))  # an unassigned major
    with pytest.raises(OutputPathError, match="nodriver' cannot be written: No such device"):
        write_text_atomic(node, "x")
    assert stat.S_ISCHR(os.lstat(node).st_mode)


def test_odd_path_objects_are_clean_errors(tmp_path):
    class BytesPath:
        def __fspath__(self):
            return b"out.tex"

    with pytest.raises(OutputPathError, match="must be text, not bytes"):
        write_text_atomic(BytesPath(), "x")
    with pytest.raises(OutputPathError, match="cannot be encoded for the file system"):
        write_text_atomic(str(tmp_path / "bad\ud800name"), "x")
    assert names(tmp_path) == []


def test_a_taken_temporary_name_is_skipped(tmp_path, monkeypatch):
    # A live writer of the same file holds (and locks) the first name drawn.
    taken = tmp_path / ".f.tex.tm-Taken1.tmp"
    taken.write_text("someone else's")
    picks = iter([str(taken), str(tmp_path / ".f.tex.tm-Fresh2.tmp")])
    monkeypatch.setattr(tio, "_temporary_name", lambda target, folder: next(picks))
    holder = os.open(taken, os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        write_text_atomic(tmp_path / "f.tex", "mine")
    finally:
        os.close(holder)
    assert (tmp_path / "f.tex").read_text() == "mine"
    assert taken.read_text() == "someone else's"


def test_a_temporary_reaped_before_its_lock_is_given_up_for_a_new_name(tmp_path, monkeypatch):
    # Another writer of the same file reaps this writer's temporary in the
    # moment between its creation and its lock: the writer sees the name is
    # no longer its file and draws another.
    first = tmp_path / ".f.tex.tm-First1.tmp"
    picks = iter([str(first), str(tmp_path / ".f.tex.tm-Secnd2.tmp")])
    monkeypatch.setattr(tio, "_temporary_name", lambda target, folder: next(picks))
    real_lock = tio._lock
    reaped = []

    def reap_then_lock(handle):
        if not reaped:
            reaped.append("reaping")  # the reaper's own locks go straight through
            reaped[:] = tio.remove_stale_temporaries(str(tmp_path), target=str(tmp_path / "f.tex"))
        return real_lock(handle)

    monkeypatch.setattr(tio, "_lock", reap_then_lock)
    write_text_atomic(tmp_path / "f.tex", "mine")
    assert reaped == [str(first)]
    assert names(tmp_path) == ["f.tex"] and (tmp_path / "f.tex").read_text() == "mine"


def test_name_max_falls_back_when_the_file_system_cannot_say(tmp_path, monkeypatch):
    def unknown(path, name):
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(tio.os, "pathconf", unknown)
    write_text_atomic(tmp_path / ("n" * 255), "x")
    assert names(tmp_path) == ["n" * 255]


# ------------------------------------------------------------------ bytes


BINARY = bytes(range(256)) * 3  # every byte value, NUL and invalid UTF-8 included


@pytest.mark.parametrize("data", [BINARY, bytearray(BINARY), memoryview(BINARY)])
def test_bytes_replace_a_file_atomically_keeping_its_mode(tmp_path, data):
    target = tmp_path / "frames.gif"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    inode = target.stat().st_ino
    assert write_bytes_atomic(target, data) == target
    assert target.read_bytes() == BINARY and target.stat().st_ino != inode
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert names(tmp_path) == ["frames.gif"]


def test_bytes_follow_a_symlink_and_go_through_a_fifo(tmp_path):
    (tmp_path / "real.png").write_bytes(b"old")
    (tmp_path / "link.png").symlink_to("real.png")
    write_bytes_atomic(tmp_path / "link.png", BINARY)
    assert (tmp_path / "link.png").is_symlink() and (tmp_path / "real.png").read_bytes() == BINARY
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_output(str(fifo), BINARY)
    reader.join(timeout=30)
    assert received == [BINARY] and stat.S_ISFIFO(os.lstat(fifo).st_mode)


@needs_root("mknod")
def test_bytes_to_a_full_device_are_a_clean_error(tmp_path):
    full = tmp_path / "full"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    with pytest.raises(OutputPathError, match="No space left on device"):
        write_bytes_atomic(full, BINARY)
    assert stat.S_ISCHR(os.lstat(full).st_mode) and names(tmp_path) == ["full"]


def test_bytes_must_be_bytes(tmp_path):
    with pytest.raises(ConvSpecTypeError, match="data must be bytes, not str") as caught:
        write_bytes_atomic(tmp_path / "x.gif", "text")
    assert caught.value.field == "data"
    with pytest.raises(ConvSpecTypeError, match="content must be a str or bytes, not int") as caught:
        write_output(tmp_path / "x.gif", 3)
    assert caught.value.field == "content"
    assert names(tmp_path) == []


def test_dash_takes_bytes_through_the_text_stream_s_buffer():
    raw = io.BytesIO()
    text = io.TextIOWrapper(raw, encoding="utf-8")
    text.write("text first, ")  # buffered in the wrapper: must come out first
    assert write_output("-", b"then bytes", stdout=text) is None
    assert raw.getvalue() == b"text first, then bytes"
    binary = io.BytesIO()
    write_output("-", BINARY, stdout=binary)  # a binary stream takes them as they are
    assert binary.getvalue() == BINARY
    with pytest.raises(OutputPathError, match="takes text only, not bytes"):
        write_output("-", b"x", stdout=io.StringIO())
    with pytest.raises(OutputPathError, match="takes bytes only, not text"):
        write_output("-", "x", stdout=io.BytesIO())
