"""The on-disk scenario library: saved scenarios as JSON files in one folder.

The app keeps planners' scenarios here so they survive browser reloads and restarts. The folder
is :func:`planning.settings.scenario_library_dir` (``KANGLE_SCENARIO_DIR``) unless another is
given. Each scenario is one UTF-8 JSON file (:meth:`Scenario.to_json`); the scenario's
``name`` inside the file is what the user sees, the file name is derived from it.

Safety rules:

* writes are atomic (a temporary file in the same folder, flushed, then renamed over the
  target), so a crash never leaves half a scenario;
* nothing a user saved is ever destroyed silently: a file that cannot be read as a scenario is
  moved to ``.corrupt/`` and reported; a deleted scenario is moved to ``.deleted/`` (delete
  that folder to reclaim the space);
* names are unique (case-sensitive); saving over an existing name needs ``overwrite=True``.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from planning import settings
from planning.errors import PlanningError, ScenarioError
from planning.i18n import Msg
from planning.scenario import Scenario

logger = logging.getLogger(__name__)

MAX_NAME_CHARS = 80
CORRUPT_DIR = ".corrupt"
DELETED_DIR = ".deleted"
FILES_DIR = "files"


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


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise


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

    # ------------------------------------------------------------------ reading
    def _scan(self) -> dict[str, StoredScenario]:
        found: dict[str, StoredScenario] = {}
        if not self.root.is_dir():
            return found
        for path in sorted(self.root.glob("*.json")):
            try:
                scenario = Scenario.load(path)
            except PlanningError as err:
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
        target_dir = self.root / CORRUPT_DIR
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = target_dir / f"{path.stem}.{stamp}{path.suffix}"
        n = 1
        while target.exists():
            n += 1
            target = target_dir / f"{path.stem}.{stamp}-{n}{path.suffix}"
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
            path.replace(target)
        except OSError as err:
            logger.warning("Cannot move unreadable scenario %s aside: %s", path, err)
            target = path
        logger.warning("Scenario file %s could not be read (%s); kept at %s", path, reason, target)
        self.set_aside.append(SetAside(path, target, reason))

    def list(self) -> list[StoredScenario]:
        """Return saved scenarios by name; unreadable files are moved aside (``set_aside``)."""
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
        """Load the saved scenario ``name``."""
        return Scenario.load(self._entry(name).path)

    def exists(self, name: str) -> bool:
        """Whether a scenario called ``name`` is saved."""
        return name in self._scan()

    # ------------------------------------------------------------------ writing
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

        Raises
        ------
        ScenarioError
            Empty or too long name; the name is taken and ``overwrite`` is false; the folder
            cannot be written.
        """
        clean = _check_name(name if name is not None else scenario.display_name)
        if clean != scenario.name:
            scenario = scenario.replace(name=clean)
        found = self._scan()
        if clean in found and not overwrite:
            raise ScenarioError("store.name_taken", name=clean)
        path = found[clean].path if clean in found else self._free_path(clean, found)
        try:
            _atomic_write(path, scenario.to_json() + "\n")
        except OSError as err:
            raise ScenarioError(
                "store.cannot_save", name=clean, folder=str(self.root), reason=err.strerror
            ) from None
        logger.info("Saved scenario %r to %s", clean, path)
        return path

    def rename(self, old: str, new: str) -> Path:
        """Rename a saved scenario (its file is rewritten under the new name)."""
        entry = self._entry(old)
        clean = _check_name(new)
        if clean == old:
            return entry.path
        if self.exists(clean):
            raise ScenarioError("store.name_taken_rename", name=clean)
        scenario = Scenario.load(entry.path)
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
        scenario = self.load(name)
        return self.save(scenario, name=new_name or self.copy_name(name))

    def delete(self, name: str) -> Path:
        """Remove ``name`` from the library; the file is moved to ``.deleted/`` and returned."""
        entry = self._entry(name)
        target_dir = self.root / DELETED_DIR
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = target_dir / f"{entry.path.stem}.{stamp}.json"
        n = 1
        while target.exists():
            n += 1
            target = target_dir / f"{entry.path.stem}.{stamp}-{n}.json"
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
            entry.path.replace(target)
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
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            Path(tmp).replace(path)
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
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ScenarioError("store.not_utf8") from None
    try:
        json.loads(text)
    except json.JSONDecodeError as err:
        raise ScenarioError("store.upload_not_json", reason=err.msg, line=err.lineno) from None
    return Scenario.from_json(text)
