"""The on-disk scenario library: saved scenarios as JSON files in one folder.

The app keeps planners' scenarios here so they survive browser reloads and restarts. The folder
is :func:`planning.settings.scenario_library_dir` (``KANGLE_SCENARIO_DIR``) unless another is
given. Each scenario is one UTF-8 JSON file (:meth:`Scenario.to_json`); the scenario's
``name`` inside the file is what the user sees, the file name is derived from it.

Safety rules:

* writes are atomic (:mod:`planning._atomic`: a temporary file in the same folder, flushed,
  then renamed over the target), so a crash or a full disk never leaves half a scenario;
* several app sessions and command-line runs may use one library at once: every change
  (save, rename, duplicate, delete, setting a file aside) happens under one lock, so two
  writers saving the same name cannot both succeed: one saves, the other is told the name is
  taken. The lock is a ``filelock`` lock file next to the folder (``.<folder>.lock``; inside
  it when its parent cannot be written), chosen over SQLite in
  WAL mode because the scenarios stay plain JSON files that the command line reads
  (``python -m planning export <library>/<name>.json``) and planners copy and mail; the
  operating system releases the lock when a process dies, so a crash never leaves the library
  locked (on a network share without working locks, use one library per computer);
* nothing a user saved is ever destroyed silently: a file that cannot be read as a scenario is
  moved to ``.corrupt/`` and reported; a deleted scenario is moved to ``.deleted/`` (delete
  that folder to reclaim the space); a scenario is replaced only on request
  (``overwrite=True``, the app's "replace" box);
* temporary files (names starting with ``.``) and sub-folders are never listed; a scenario
  file in GBK is read, with a note asking to save it again (:attr:`ScenarioStore.notes`);
* names are unique (case-sensitive); saving over an existing name needs ``overwrite=True``.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
import logging
import re
import time
import unicodedata
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from planning import _atomic, settings
from planning.errors import PlanningError, PlanningWarning, ScenarioError, WriteError
from planning.i18n import Msg
from planning.scenario import Scenario, decode_json_text

logger = logging.getLogger(__name__)

MAX_NAME_CHARS = 80
CORRUPT_DIR = ".corrupt"
DELETED_DIR = ".deleted"
FILES_DIR = "files"
LOCK_TIMEOUT_S = 20.0
"""How long a change waits for another session's change to finish before saying so."""


@dataclass(frozen=True)
class StoredScenario:
    """One entry of the library.

    Attributes
    ----------
    name
        The scenario's name (unique in the library).
    path
        Its JSON file.
    modified
        Last modification time (seconds since the epoch).
    """

    name: str
    path: Path
    modified: float


@dataclass(frozen=True)
class SetAside:
    """A library file that could not be read and was moved to ``.corrupt/``.

    Attributes
    ----------
    original
        Where the file was.
    kept_at
        Where it is now (nothing was deleted).
    why
        Why it could not be read (render with ``why.text(lang)``).
    """

    original: Path
    kept_at: Path
    why: Msg

    @property
    def reason(self) -> str:
        """Why it could not be read, in the default language."""
        return self.why.text()


def _file_stem(name: str) -> str:
    """Return a safe, readable file stem for ``name`` (Chinese characters kept)."""
    text = unicodedata.normalize("NFKC", name).strip()
    text = re.sub(r"[\\/:*?\"<>|\x00-\x1f]+", "_", text)
    text = re.sub(r"\s+", " ", text).strip(" .")
    return text[:MAX_NAME_CHARS] or "scenario"


def _check_name(name: str) -> str:
    clean = name.strip() if isinstance(name, str) else ""
    if not clean:
        raise ScenarioError("store.name_missing")
    if len(clean) > MAX_NAME_CHARS:
        raise ScenarioError("store.name_too_long", n=len(clean), limit=MAX_NAME_CHARS)
    return clean


_PARSED: dict[tuple[str, int, int, int], tuple[Scenario, tuple[Msg, ...]]] = {}
"""Scenarios already read, by file identity (scenarios are immutable, so they can be shared)."""
_PARSED_MAX = 4096


class ScenarioStore:
    """Save, list, load, rename, duplicate and delete scenarios in a folder.

    Parameters
    ----------
    root
        Library folder; default :func:`planning.settings.scenario_library_dir`. Created on
        first write.

    Examples
    --------
    >>> import tempfile
    >>> store = ScenarioStore(tempfile.mkdtemp())
    >>> _ = store.save(Scenario(name="示范"))
    >>> [s.name for s in store.list()]
    ['示范']
    >>> store.load("示范").name
    '示范'
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else settings.scenario_library_dir()
        self.set_aside: list[SetAside] = []
        self.notes: list[Msg] = []
        self._lock: FileLock | None = None

    # ------------------------------------------------------------------ locking
    def _lock_path(self) -> Path:
        """Return the lock file: next to the library, or in it when its parent is not writable."""
        outside = self.root.parent / f".{self.root.name}.lock"
        if outside.exists() or _atomic.diagnose(self.root.parent) not in {"EROFS", "EACCES"}:
            return outside
        return self.root / ".lock"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the library's lock (re-entrant) while changing it.

        Raises
        ------
        ScenarioError
            Another session holds it for longer than :data:`LOCK_TIMEOUT_S`, or the folder
            cannot be written.
        """
        try:
            _atomic.make_folder(self.root)
        except WriteError as err:
            raise ScenarioError("store.library_unwritable", problem=err.message) from None
        if self._lock is None:
            self._lock = FileLock(str(self._lock_path()), timeout=LOCK_TIMEOUT_S)
        try:
            self._lock.acquire(poll_interval=0.005)
        except Timeout:
            raise ScenarioError(
                "store.busy", folder=str(self.root), seconds=LOCK_TIMEOUT_S
            ) from None
        except OSError as err:
            problem = _atomic.write_error(err, self._lock_path())
            raise ScenarioError(
                "store.library_unwritable", problem=problem.message if problem else str(err)
            ) from None
        try:
            yield
        finally:
            self._lock.release()

    # ------------------------------------------------------------------ reading
    def _files(self) -> builtins.list[Path]:
        """Return the scenario files: ``*.json`` in the folder, none hidden or temporary."""
        try:
            entries = sorted(self.root.iterdir())
        except OSError as err:
            if self.root.exists():
                self.notes.append(
                    Msg("store.folder_unreadable", folder=str(self.root), reason=err.strerror)
                )
            return []
        return [
            p
            for p in entries
            if p.suffix.lower() == ".json" and not p.name.startswith(".") and p.is_file()
        ]

    def _read(self, path: Path) -> Scenario:
        """Read one library file; a warning (GBK, say) becomes a note, not an exception.

        A file read before and unchanged since (same inode, size and modification time; every
        save renames a new file into place) is not parsed again.
        """
        try:
            st = path.stat()
        except OSError:
            st = None
        key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns) if st is not None else None
        cached = _PARSED.get(key) if key is not None else None
        if cached is not None:
            scenario, notes = cached
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                scenario = Scenario.load(path)
            found: list[Msg] = []
            for w in caught:
                if isinstance(w.message, PlanningWarning):
                    found.append(w.message.message)
                else:
                    logger.warning("%s: %s", path, w.message)
            notes = tuple(found)
            if key is not None:
                if len(_PARSED) >= _PARSED_MAX:
                    _PARSED.clear()
                _PARSED[key] = (scenario, notes)
        self.notes.extend(n for n in notes if n not in self.notes)
        return scenario

    def _scan(self) -> dict[str, StoredScenario]:
        found: dict[str, StoredScenario] = {}
        self.notes = []
        for path in self._files():
            try:
                scenario = self._read(path)
            except PlanningError as err:
                if path.exists():  # not removed by another session meanwhile
                    self._set_aside(path, err.message)
                continue
            try:
                modified = path.stat().st_mtime
            except OSError:  # removed meanwhile
                continue
            name = scenario.display_name  # a file without a name: named after its region
            if name in found:
                # two files claim one name (copied by hand): keep the newer, set the other aside
                other = found[name]
                reason = Msg("store.name_in_two_files", name=name)
                if modified <= other.modified:
                    self._set_aside(path, reason)
                    continue
                self._set_aside(other.path, reason)
            found[name] = StoredScenario(name, path, modified)
        return found

    def _set_aside(self, path: Path, reason: Msg) -> None:
        try:
            with self._locked():
                target = self._move_to(path, CORRUPT_DIR)
        except (OSError, PlanningError) as err:
            logger.warning("Cannot move unreadable scenario %s aside: %s", path, err)
            target = path
        logger.warning("Scenario file %s could not be read (%s); kept at %s", path, reason, target)
        self.set_aside.append(SetAside(path, target, reason))

    def list(self) -> list[StoredScenario]:
        """Return saved scenarios by name.

        Unreadable files are moved aside (:attr:`set_aside`); anything else worth saying (a
        file read as GBK, a folder that cannot be listed) is in :attr:`notes`. Never raises
        for a bad file.
        """
        return sorted(self._scan().values(), key=lambda s: s.name)

    def names(self) -> builtins.list[str]:
        """Return the names of the saved scenarios, sorted."""
        return [s.name for s in self.list()]

    def _entry(self, name: str) -> StoredScenario:
        found = self._scan()
        if name not in found:
            known = ", ".join(sorted(found)) or Msg("store.none_saved")
            raise ScenarioError("store.not_found", name=name, known=known)
        return found[name]

    def load(self, name: str) -> Scenario:
        """Load the saved scenario ``name`` (a note, e.g. read as GBK, goes to :attr:`notes`)."""
        return self._read(self._entry(name).path)

    def exists(self, name: str) -> bool:
        """Whether a scenario called ``name`` is saved."""
        return name in self._scan()

    # ------------------------------------------------------------------ writing
    def _move_to(self, path: Path, folder: str) -> Path:
        """Move ``path`` into the sub-folder ``folder`` under a free, dated name; return it."""
        target_dir = self.root / folder
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = target_dir / f"{path.stem}.{stamp}{path.suffix}"
        n = 1
        while target.exists():
            n += 1
            target = target_dir / f"{path.stem}.{stamp}-{n}{path.suffix}"
        target_dir.mkdir(parents=True, exist_ok=True)
        path.replace(target)
        return target

    def _free_path(self, name: str, found: dict[str, StoredScenario]) -> Path:
        stem = _file_stem(name)
        taken = {s.path.name for s in found.values()}
        path = self.root / f"{stem}.json"
        n = 1
        while path.name in taken or path.exists():
            n += 1
            path = self.root / f"{stem}-{n}.json"
        return path

    def save(self, scenario: Scenario, *, name: str | None = None, overwrite: bool = False) -> Path:
        """Save ``scenario`` (renamed to ``name`` if given) and return its file.

        Under the library's lock: of two sessions saving one new name at once, one saves and
        the other gets the "already saved" error.

        Raises
        ------
        ScenarioError
            Empty or too long name; the name is taken and ``overwrite`` is false; the folder
            cannot be written (the message says why: disk full, read-only, permissions; the
            saved scenarios are unchanged).
        """
        clean = _check_name(name if name is not None else scenario.display_name)
        if clean != scenario.name:
            scenario = scenario.replace(name=clean)
        with self._locked():
            found = self._scan()
            if clean in found and not overwrite:
                raise ScenarioError("store.name_taken", name=clean)
            path = found[clean].path if clean in found else self._free_path(clean, found)
            try:
                _atomic.write_text(path, scenario.to_json() + "\n")
            except WriteError as err:
                raise ScenarioError("store.write_failed", name=clean, problem=err.message) from None
        logger.info("Saved scenario %r to %s", clean, path)
        return path

    def rename(self, old: str, new: str) -> Path:
        """Rename a saved scenario (its file is rewritten under the new name)."""
        with self._locked():
            entry = self._entry(old)
            clean = _check_name(new)
            if clean == old:
                return entry.path
            if self.exists(clean):
                raise ScenarioError("store.name_taken_rename", name=clean)
            scenario = self._read(entry.path)
            path = self.save(scenario, name=clean)
            if path != entry.path:
                with contextlib.suppress(FileNotFoundError):
                    entry.path.unlink()
        return path

    def copy_name(self, name: str) -> str:
        """Return a free name for a copy of ``name``: "<name> (copy)", "<name> (copy 2)"..."""
        found = self._scan()
        new_name = f"{name} (copy)"
        n = 1
        while new_name in found:
            n += 1
            new_name = f"{name} (copy {n})"
        return new_name

    def duplicate(self, name: str, new_name: str | None = None) -> Path:
        """Save a copy of ``name`` as ``new_name`` (default: :meth:`copy_name`)."""
        with self._locked():
            scenario = self.load(name)
            return self.save(scenario, name=new_name or self.copy_name(name))

    def delete(self, name: str) -> Path:
        """Remove ``name`` from the library; the file is moved to ``.deleted/`` and returned."""
        with self._locked():
            entry = self._entry(name)
            try:
                target = self._move_to(entry.path, DELETED_DIR)
            except OSError as err:
                raise ScenarioError("store.cannot_delete", name=name, reason=err.strerror) from None
        logger.info("Deleted scenario %r (kept at %s)", name, target)
        return target

    def import_json(self, text: str | bytes, *, overwrite: bool = False) -> Scenario:
        """Save a scenario given as JSON text (an upload); returns it.

        Raises
        ------
        ScenarioError
            Not a valid scenario (the message names the problem) or its name is taken.
        """
        data = text.encode("utf-8") if isinstance(text, str) else text
        scenario = parse_upload(data)
        self.save(scenario, overwrite=overwrite)
        return scenario

    def store_file(self, data: bytes, *, suffix: str, stem: str | None = None) -> Path:
        """Keep an uploaded input file in the library (named by its content hash) and return it.

        Scenarios refer to uploaded files (e.g. ``facilities_file``) by this path, so they still
        load after a restart. With ``stem`` (the planner's own file name, e.g. ``"莆田设施"``)
        the file is kept as ``<stem>~<hash><suffix>``, and :func:`original_name` gives the
        planner's name back, so every export's data sources name the planner's file.
        """
        digest = hashlib.sha256(data).hexdigest()[:20]
        safe_suffix = re.sub(r"[^A-Za-z0-9.]", "", suffix)[:10] or ".bin"
        safe_stem = re.sub(r"[^\w\-]+", "_", stem or "").strip("._")[:60] if stem else ""
        name = f"{safe_stem}~{digest}" if safe_stem else digest
        path = self.root / FILES_DIR / f"{name}{safe_suffix}"
        if not path.exists():
            try:
                _atomic.write_bytes(path, data)
            except WriteError as err:
                raise ScenarioError("store.cannot_keep_file", problem=err.message) from None
        return path


_STORED_TAG = re.compile(r"~[0-9a-f]{20}(?=\.[^.]*$)")


def original_name(path: str | Path) -> str:
    """Return the file name a planner knows: a library copy's content-hash tag removed.

    Examples
    --------
    >>> original_name("/lib/files/莆田设施~0123456789abcdef0123.csv")
    '莆田设施.csv'
    >>> original_name("/data/facilities.csv")
    'facilities.csv'
    """
    return _STORED_TAG.sub("", Path(path).name)


def scenario_json_bytes(scenario: Scenario) -> bytes:
    """Return the scenario as a downloadable UTF-8 JSON file."""
    return (scenario.to_json() + "\n").encode("utf-8")


def parse_upload(data: bytes) -> Scenario:
    """Parse an uploaded scenario JSON file (UTF-8, with or without BOM)."""
    try:
        text = decode_json_text(data, "scenario.json")
    except ScenarioError:
        raise ScenarioError("store.not_utf8") from None
    try:
        json.loads(text)
    except json.JSONDecodeError as err:
        raise ScenarioError("store.upload_not_json", reason=err.msg, line=err.lineno) from None
    except RecursionError:
        raise ScenarioError("store.upload_not_json", reason="nested too deeply", line=1) from None
    return Scenario.from_json(text)
