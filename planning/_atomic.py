"""Atomic writes: a file, or a whole output folder, appears complete or not at all.

Every file the library writes goes through :func:`replacing` (or :func:`write_bytes` /
:func:`write_text`): the writer writes a temporary file in the same folder, which is flushed to
disk (``fsync``) and then renamed over the target. A rename within one file system is atomic, so
a reader sees the old file or the new one, never half of one, and a failed write (disk full,
read-only disk, no permission, a crash) leaves the old file as it was, byte for byte.

An output folder (``solve --out``, ``export --out``, ``rollout --out``, a batch's plan folder)
is written through :func:`replacing_folder`: everything is written into a temporary folder next
to it, and only when all of it is written is the old folder swapped for the new one (two
renames). A failed run leaves the old folder intact, never a mix of the old and the new run.
When the folder holds files this run does not write (the planner's own notes, say), or cannot be
swapped (it is the current directory or a mount point), the new files are instead moved into
it one by one, each atomically, after all of them were written; the other files stay untouched.

Temporary files and folders start with :data:`TMP_PREFIX` (hidden on Linux and macOS); a
folder listing that must not see them (the scenario library) skips names starting with ``.``.

A failure is reported as :class:`~planning.errors.WriteError` saying what failed (disk full,
read-only, permissions) and what to do (:func:`write_error`). Writers that are not Python's
own file objects (GDAL for GeoPackage and GeoJSON, matplotlib, openpyxl) may report such a
failure in their own words; the folder is then checked (:func:`diagnose`) so the message still
names the cause, and an error that is not about the disk is re-raised unchanged (it is a bug).
"""

from __future__ import annotations

import contextlib
import copy
import errno
import logging
import os
import shutil
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from planning.errors import PlanningError, WriteError

logger = logging.getLogger(__name__)

TMP_PREFIX = ".kangle-tmp-"
"""Names of temporary files and folders start with this (hidden, never listed as results)."""

MIN_FREE_BYTES = 1 << 20
"""A folder with less free space than this (1 MiB) is taken as full when diagnosing a failure."""

_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_READ_ONLY = {errno.EROFS}
_NO_PERMISSION = {errno.EACCES, errno.EPERM}
_NOT_A_FOLDER = {errno.ENOTDIR, errno.EEXIST}


# ------------------------------------------------------------------------ errors
def diagnose(folder: Path) -> str | None:
    """Return why ``folder`` cannot take a write, as an errno name, or ``None`` if it can.

    ``"ENOSPC"`` (less than :data:`MIN_FREE_BYTES` free), ``"EROFS"`` (mounted read-only) or
    ``"EACCES"`` (no write permission); the nearest existing parent is checked when ``folder``
    does not exist yet.
    """
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        st = os.statvfs(probe)
    except OSError:
        return None
    if st.f_flag & os.ST_RDONLY:
        return "EROFS"
    if st.f_bavail * st.f_frsize < MIN_FREE_BYTES:
        return "ENOSPC"
    if not os.access(probe, os.W_OK):
        return "EACCES"
    return None


def _code_for(number: int | None) -> str:
    if number in _NO_SPACE:
        return "output.no_space"
    if number in _READ_ONLY:
        return "output.read_only"
    if number in _NO_PERMISSION:
        return "output.no_permission"
    if number in _NOT_A_FOLDER:
        return "output.not_a_folder"
    return "output.failed"


def write_error(err: BaseException, path: str | Path) -> WriteError | None:
    """Return the :class:`WriteError` for a failed write of ``path``, or ``None``.

    An ``OSError`` is classified by its ``errno``: disk full (``ENOSPC``, ``EDQUOT``,
    ``EFBIG``), read-only (``EROFS``), no permission (``EACCES``, ``EPERM``), a file where a
    folder is needed (``ENOTDIR``, ``EEXIST``), anything else with the system's reason. Any
    other exception (a writer's own error) is classified by :func:`diagnose` of the folder;
    ``None`` when the folder looks fine (then it is not a write problem: re-raise it).
    """
    p = Path(path)
    if isinstance(err, WriteError):
        return err
    if isinstance(err, OSError) and not isinstance(err, PlanningError):
        number = err.errno
        if number is None or _code_for(number) == "output.failed":
            found = diagnose(p if p.is_dir() else p.parent)
            number = getattr(errno, found) if found else number
        reason = err.strerror or str(err) or type(err).__name__
        return WriteError(_code_for(number), path=str(p), reason=reason)
    if isinstance(err, PlanningError):
        return None
    found = diagnose(p if p.is_dir() else p.parent)
    if found is None:
        return None
    number = getattr(errno, found)
    return WriteError(_code_for(number), path=str(p), reason=os.strerror(number))


def _raise_write_error(err: BaseException, path: Path) -> None:
    """Re-raise ``err`` as a :class:`WriteError` when it is about the disk (else unchanged)."""
    found = write_error(err, path)
    if found is None or found is err:
        raise err
    raise found from err


# ------------------------------------------------------------------------ plumbing
def _replace(src: Path, dst: Path) -> None:
    """Rename ``src`` over ``dst`` (atomic within one file system); a seam for fault tests."""
    src.replace(dst)


def _fsync(path: Path) -> None:
    """Flush a written file (or a folder's entries) to disk."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as err:  # some file systems cannot fsync a folder; a file must
        if not path.is_dir():
            raise
        logger.debug("fsync of folder %s: %s", path, err)
    finally:
        os.close(fd)


def _default_mode(*, folder: bool) -> int:
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if folder else 0o666) & ~umask


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()
    for extra in ("-journal", "-wal", "-shm"):  # SQLite (GeoPackage) side files
        with contextlib.suppress(OSError):
            path.with_name(path.name + extra).unlink()


def temporary_name(target: Path, *, tag: str = "", keep_suffix: bool = True) -> Path:
    """Return a new temporary path next to ``target``, keeping its suffix (writers read it)."""
    suffix = target.suffix if keep_suffix and len(target.suffix) <= 16 else ""
    return target.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex[:12]}{tag}{suffix}")


def make_folder(folder: str | Path) -> Path:
    """Create ``folder`` (and its parents) if needed and return it.

    Raises
    ------
    WriteError
        It cannot be created (a file of that name, read-only disk, no permission...).
    """
    p = Path(folder)
    if p.exists() and not p.is_dir():
        raise WriteError("output.not_a_folder", path=str(p), reason=os.strerror(errno.ENOTDIR))
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        _raise_write_error(err, p)
    return p


# ------------------------------------------------------------------------ files
@contextlib.contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    r"""Give a temporary path to write; on success it replaces ``path`` atomically.

    The temporary file is in ``path``'s folder and has its suffix (GDAL, matplotlib and pandas
    choose a format by it). When the block ends without an error the file is flushed to disk,
    given the permissions of the file it replaces (or the usual ones for a new file) and renamed
    over ``path``; otherwise it is removed and ``path`` is left as it was.

    Raises
    ------
    WriteError
        The write failed for a reason of the disk (see :func:`write_error`); any other error
        of the block is re-raised unchanged.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "table.csv"
    >>> with replacing(target) as tmp:
    ...     _ = tmp.write_text("a,b\\n1,2\\n", encoding="utf-8")
    >>> target.read_text(encoding="utf-8")
    'a,b\\n1,2\\n'
    """
    target = Path(path)
    make_folder(target.parent)
    if target.is_dir():
        raise WriteError("output.is_a_folder", path=str(target))
    tmp = temporary_name(target)
    try:
        yield tmp
        if not tmp.exists():  # the writer wrote nothing: an empty file
            tmp.touch()
        _fsync(tmp)
        old = target.exists()
        tmp.chmod(stat.S_IMODE(target.stat().st_mode) if old else _default_mode(folder=False))
        _replace(tmp, target)
        _fsync(target.parent)
    except BaseException as err:
        _remove(tmp)
        if isinstance(err, Exception):
            _raise_write_error(err, target)
        raise


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`replacing`) and return the path."""
    target = Path(path)
    with replacing(target) as tmp, tmp.open("xb") as f:
        f.write(data)
    return target


def write_text(path: str | Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`replacing`) and return the path."""
    return write_bytes(path, text.encode(encoding))


# ------------------------------------------------------------------------ folders
def _entries(folder: Path) -> set[str]:
    try:
        return {p.name for p in folder.iterdir() if not p.name.startswith(TMP_PREFIX)}
    except OSError:
        return set()


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def _can_swap(target: Path, staging: Path, *, sibling: bool) -> bool:
    """Whether ``target`` may be swapped whole for ``staging`` (nothing of the planner's lost)."""
    if not sibling or not target.exists():
        return sibling
    if _inside(Path.cwd().resolve(), target) or os.path.ismount(target):
        return False
    return _entries(target) <= _entries(staging)


def _fsync_tree(folder: Path) -> None:
    for root, _dirs, files in os.walk(folder):
        for name in files:
            _fsync(Path(root) / name)
        _fsync(Path(root))


def _move_into(staging: Path, target: Path) -> None:
    """Move every file of ``staging`` into ``target`` (each atomically), merging sub-folders."""
    target.mkdir(exist_ok=True)
    for item in sorted(staging.iterdir()):
        dest = target / item.name
        if item.is_dir() and not item.is_symlink():
            if dest.exists() and not dest.is_dir():
                dest.unlink()
            _move_into(item, dest)
        else:
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest)
            _replace(item, dest)
    _fsync(target)


def _as_target(err: BaseException, staging: Path, target: Path) -> BaseException:
    """Return ``err`` naming the file in ``target`` where it names one in ``staging``.

    A write into the temporary folder that fails names the file the planner asked for
    (``plan/layers.gpkg``), not the temporary folder they never see.
    """
    if not isinstance(err, WriteError):
        return err
    where = str(err.params.get("path", ""))
    if not where.startswith(str(staging)):
        return err
    clone = copy.copy(err)
    clone.params = {**err.params, "path": str(target) + where[len(str(staging)) :]}
    return clone


@contextlib.contextmanager
def replacing_folder(path: str | Path) -> Iterator[Path]:
    """Give a temporary folder to fill; on success it becomes ``path`` (old files kept if failed).

    Write every file of the run into the folder yielded. When the block ends without an error,
    its files are flushed to disk and the old folder is swapped for it (or, when the old folder
    holds other files or cannot be renamed, the new files are moved into it one by one, each
    atomically); otherwise the temporary folder is removed and ``path`` is left as it was.

    Raises
    ------
    WriteError
        ``path`` is a file, or the write failed for a reason of the disk (the message says
        which, and that the old files were kept); other errors of the block are re-raised.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "plan"
    >>> with replacing_folder(out) as tmp:
    ...     _ = (tmp / "summary.json").write_text("{}", encoding="utf-8")
    >>> sorted(p.name for p in out.iterdir())
    ['summary.json']
    """
    target = Path(path).resolve()
    if target.exists() and not target.is_dir():
        raise WriteError("output.not_a_folder", path=str(path), reason=os.strerror(errno.ENOTDIR))
    make_folder(target.parent)
    sibling = not (target.exists() and os.path.ismount(target))
    staging = temporary_name(target, keep_suffix=False)
    if sibling:
        try:
            staging.mkdir()
        except OSError:
            if not target.is_dir():
                raise
            sibling = False
    if not sibling:  # a mount point, or its parent cannot be written: stage inside it
        staging = make_folder(target) / temporary_name(target, keep_suffix=False).name
        try:
            staging.mkdir()
        except OSError as err:
            _raise_write_error(err, target)
    aside: Path | None = None
    try:
        yield staging
        _fsync_tree(staging)
        if _can_swap(target, staging, sibling=sibling):
            mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else None
            staging.chmod(mode if mode is not None else _default_mode(folder=True))
            if target.exists():
                aside = temporary_name(target, tag="-old", keep_suffix=False)
                _replace(target, aside)
            try:
                _replace(staging, target)
            except BaseException:
                if aside is not None:
                    _replace(aside, target)
                    aside = None
                raise
            _fsync(target.parent)
        else:
            _move_into(staging, target)
    except BaseException as err:
        _remove(staging)
        named = _as_target(err, staging, target)
        if named is not err:
            raise named from err
        if isinstance(err, Exception):
            _raise_write_error(err, target)
        raise
    else:
        _remove(staging)
        if aside is not None:
            _remove(aside)


def clean_leftovers(folder: str | Path, *, older_than_s: float = 24 * 3600) -> int:
    """Remove temporary files and folders a killed run left in ``folder``; return how many.

    Only names starting with :data:`TMP_PREFIX` and older than ``older_than_s`` (another run may
    still be writing a fresh one) are removed.
    """
    removed = 0
    now = time.time()
    with contextlib.suppress(OSError):
        for item in Path(folder).iterdir():
            if not item.name.startswith(TMP_PREFIX):
                continue
            with contextlib.suppress(OSError):
                if now - item.lstat().st_mtime >= older_than_s:
                    _remove(item)
                    removed += 1
    return removed
