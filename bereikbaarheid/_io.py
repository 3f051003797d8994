"""File helpers: content digests, atomic writes, file locks and the leftovers of killed runs.

Every temporary file or folder made here is named
``.<name>.<pid>-<host>.<random>.tmp``: the id of the process that made it and
an 8-digit digest of its host (the host name and, on Linux, the process-id
namespace, since a container sharing the folder has pids of its own). A later
run removes such a leftover only when it was made on the same host by a
process that is no longer running (:func:`clean_stale`); a running writer's
files, and those of other hosts sharing the folder, are left alone. A pid
that a new process has reused keeps a leftover until that process ends too.
On Windows, where a process cannot be probed safely, nothing is removed.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import logging
import os
import re
import secrets
import shutil
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

try:
    import fcntl
except ImportError:  # Windows: no flock, so runs sharing a cache are not serialised there
    fcntl = None

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20
TEMP_SUFFIX = ".tmp"
# A temporary entry: the name it stands for, the owner tag, a random part.
_TEMP_NAME = re.compile(r"^\..+\.(?P<pid>\d+)-(?P<host>[0-9a-f]{8})\.[a-z0-9_]+\.tmp$")


def file_digest(path: str | Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


@functools.cache
def host_id() -> str:
    """8 hex digits naming this host and its process-id namespace."""
    h = hashlib.sha256(socket.gethostname().encode())
    with contextlib.suppress(OSError):
        h.update(os.readlink("/proc/self/ns/pid").encode())
    return h.hexdigest()[:8]


def owner_tag() -> str:
    """``<pid>-<host>`` of this process, carried by its temporary names."""
    return f"{os.getpid()}-{host_id()}"


def owner_gone(pid: int, host: str | None = None) -> bool:
    """Whether the process ``pid`` of ``host`` (default: this host) has ended,
    so that what it left behind may be cleaned up."""
    if (host is not None and host != host_id()) or os.name == "nt":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):
        # Another user's process (PermissionError) or no valid pid: not ours to judge.
        return False
    return False


def temp_prefix(name: str) -> str:
    """Start of the name of a temporary sibling of ``name`` made by this
    process; with :data:`TEMP_SUFFIX` and a random middle part (as
    ``tempfile.mkstemp(prefix=..., suffix=...)`` adds) :func:`clean_stale`
    recognises it."""
    return f".{name}.{owner_tag()}."


def temp_beside(path: str | Path, directory: bool = False) -> Path:
    """Create an empty temporary file (or folder) beside ``path`` and return it.

    It gets the permissions an ordinary ``open`` (``mkdir``) would give,
    0666 (0777) less the umask, unlike ``tempfile``'s owner-only ones, so
    that what it becomes is readable by whoever may read its folder.
    """
    path = Path(path)
    while True:
        tmp = path.with_name(f"{temp_prefix(path.name)}{secrets.token_hex(4)}{TEMP_SUFFIX}")
        try:
            if directory:
                os.mkdir(tmp)
            else:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue  # 32 random bits after this pid: practically never
        return tmp


def clean_stale(folder: str | Path) -> list[Path]:
    """Remove from ``folder`` (not its subfolders) the temporary files and
    folders of processes that have ended; return what was removed.

    Best effort: a folder that cannot be listed, or a leftover that cannot be
    removed, is left as it is (logged) and never fails the run.
    """
    folder = Path(folder)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    removed = []
    for name in names:
        match = _TEMP_NAME.match(name)
        if match is None or not owner_gone(int(match["pid"]), match["host"]):
            continue
        try:
            remove(folder / name)
        except OSError as exc:
            logger.warning(f"could not remove {folder / name}, left by an interrupted run: "
                           f"{exc.strerror or exc}")
        else:
            removed.append(folder / name)
    if removed:
        logger.info(f"removed {len(removed)} temporary file(s) of interrupted runs from {folder}")
    return removed


def remove(path: str | Path) -> None:
    """Remove a file or a whole folder; nothing when ``path`` is absent."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def make_way(path: str | Path, directory: bool = False) -> None:
    """Remove what stands at ``path`` unless it is a folder (``directory``) or
    not a folder: a damaged cache entry (a folder where a file belongs, or the
    reverse) would make the write that follows fail."""
    path = Path(path)
    if directory:
        wrong = os.path.lexists(path) and not path.is_dir()
    else:
        wrong = path.is_dir() and not path.is_symlink()
    if wrong:
        logger.info(f"removing {path}: a {'file' if directory else 'folder'} "
                    f"stood where a {'folder' if directory else 'file'} belongs")
        remove(path)


def make_dirs(folder: str | Path) -> None:
    """Create ``folder`` and its parents; a file in its place is a
    ``NotADirectoryError`` naming it (``mkdir`` says "File exists")."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder)) from None


@contextmanager
def naming(path: str | Path, *internal: str | Path) -> Iterator[None]:
    """Make an ``OSError`` raised in the block name ``path`` when it names no
    file or a path starting with one of ``internal`` (the temporary and lock
    files of a writer of ``path``): the user then reads the file they asked
    for, not a hidden name. Errors naming other files pass unchanged."""
    try:
        yield
    except OSError as exc:
        name = exc.filename
        if name is not None and not any(str(name).startswith(str(p)) for p in internal):
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc


@contextmanager
def locked(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` while the block runs: an existing
    folder, or a file (created empty when missing).

    The lock is the operating system's ``flock``: it ends with the block or
    with the process, so a killed run never leaves a stale lock; a lock file
    stays (removing it would race with a waiter that has opened it). Waiting
    is logged. Each call opens the path anew, so threads of one process
    queue as processes do, and a thread taking a lock it holds waits for
    ever. Where the file system has no such locks (a folder on NFS, some
    network mounts), the block runs unlocked: the callers' writes are atomic
    and verified anyway, so at worst two runs do the same work. A failure to
    create the lock file names its folder.
    """
    path = Path(path)
    if fcntl is None:
        yield
        return
    try:
        fd = os.open(path, os.O_RDONLY if path.is_dir() else os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError as exc:
        # Another user's lock file: a read-only descriptor can hold a flock
        # on a local file system.
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            raise OSError(exc.errno, exc.strerror, str(path.parent)) from exc
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path.parent)) from exc
    try:
        _flock(fd, path)
        yield
    finally:
        os.close(fd)  # and with it the lock


def _flock(fd: int, path: Path) -> None:
    """Lock ``fd`` exclusively, waiting (logged) while another holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        logger.info(f"waiting for another run to finish with {path}")
        fcntl.flock(fd, fcntl.LOCK_EX)
    except OSError as exc:
        logger.debug(f"no lock on {path} ({exc.strerror}); going on without")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    A writer that fails (or raises) leaves ``path`` untouched and no temporary
    file behind; an ``OSError`` of the writer or the rename names ``path``
    (see :func:`naming`). The temporary file is named as :func:`clean_stale`
    expects, so one left by a killed process is removed by a later run.
    """
    path = Path(path)
    temporary = path.with_name(temp_prefix(path.name))
    with naming(path, temporary):
        make_dirs(path.parent)
        tmp = temp_beside(path)
    try:
        with naming(path, temporary):
            yield tmp
            os.replace(tmp, path)
    finally:
        # Absent after the rename. Should removing fail, the original error
        # stands and clean_stale removes the file once this process has ended.
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temporary file for writing; it replaces ``path`` only on success."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, **kwargs) as f:
            yield f


def check_writable_folder(folder: str | Path, what: str) -> None:
    """Create ``folder`` if needed and make sure a file can be written in it.

    Raises
    ------
    InputError
        Naming the folder: it is a file, or cannot be created or written
        (read-only, no permission, no space), with the system's reason.
    """
    from .errors import InputError

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(folder, f"is a file; expected the {what} folder (or a new path)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = temp_beside(folder / "write-test")
        probe.unlink()
    except OSError as exc:
        raise InputError(folder, f"cannot write in the {what} folder: "
                                 f"{exc.strerror or exc}; expected a writable folder") from None


def read_toml(path: str | Path, expected: str) -> dict:
    """A TOML file as a dict, every failure an :class:`InputError` naming the
    file: missing, a folder, unreadable, not UTF-8 (with the line of the first
    such byte) or not TOML (with the line and column). ``expected`` says
    what the file should be (``"a scenario TOML file"``)."""
    import tomllib

    from .errors import InputError

    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, f"file not found; expected {expected}") from None
    except IsADirectoryError:
        raise InputError(path, f"is a folder; expected {expected}") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(path, f"line {line}: byte 0x{raw[exc.start]:02x} is not UTF-8; "
                               f"expected {expected} in UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, f"not valid TOML: {exc}; expected {expected}") from None


# A name that becomes a folder (a region's profile, a scenario's): letters,
# digits, '.', '_' and '-', not hidden, and without the '@' that joins a
# region and its scenario.
_FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def folder_name_problem(name: object) -> str | None:
    """Why ``name`` cannot name a profile folder, or None when it can."""
    if isinstance(name, str) and _FOLDER_NAME.fullmatch(name):
        return None
    return (f"{name!r} cannot name a folder; expected letters, digits, '.', '_' and '-', "
            "at most 64, starting with a letter or digit")
