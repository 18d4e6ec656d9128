"""What a batch hands back: each unit's outcome, the progress as it runs, the finished batch.

:class:`UnitOutcome` (with :class:`UnitError` when a unit has no plan) is one unit's record;
:class:`BatchProgress` is what ``run_batch(progress=...)`` receives as units finish;
:class:`BatchResult` is the finished batch, with its roll-up table and the lines the command
line prints. Plain values: nothing here runs, reads or writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from planning import i18n
from planning.batch.units import BatchUnit
from planning.report.batch import RollupInfo, key_lines, public_table
from planning.report.labels import Lang
from planning.results.rollup import FIGURES
from planning.scenario import Scenario

Stage = Literal["waiting", "preparing", "solving", "summarising", "writing"]
"""Stages of a unit in flight, as :attr:`BatchProgress.running` names them."""


@dataclass(frozen=True, kw_only=True)
class UnitError:
    """Why a unit has no plan.

    Attributes
    ----------
    kind
        ``"planning"`` (the library's message: no census, infeasible, solver error...),
        ``"worker_lost"``, ``"no_workers"``, ``"output_missing"`` (workers cannot write the
        batch folder) or ``"bug"`` (an unexpected exception; ``traceback`` holds it).
    code
        Message key (or exception name).
    texts
        The message in each language: ``{"zh": ..., "en": ...}``.
    """

    kind: str
    code: str
    texts: Mapping[str, str]
    traceback: str = ""

    def text(self, lang: str | None = None) -> str:
        """Return the message in ``lang`` (``None``: the default language)."""
        return self.texts.get(i18n.check_language(lang), self.texts.get("en", self.code))


@dataclass(frozen=True, kw_only=True)
class UnitOutcome:
    """What became of one unit.

    Attributes
    ----------
    unit
        The unit.
    status
        ``"done"`` (its folder holds a complete plan) or ``"failed"``.
    reused
        The plan was written by an earlier run for the same scenario and kept.
    folder
        The unit's plan folder (``None`` when failed).
    figures
        Roll-up figures (:func:`planning.results.rollup.unit_figures`); exact counts when
        this process knows them, else the counts as the unit's files show them.
    hidden
        Patient counts the unit's own files hide, with the text they show.
    error
        Why it failed (``None`` when done).
    warnings
        Warnings of its run, each ``{"zh": ..., "en": ...}``.
    elapsed_s
        Wall time of its task.
    """

    unit: BatchUnit
    status: Literal["done", "failed"]
    reused: bool = False
    folder: Path | None = None
    figures: Mapping[str, Any] | None = None
    hidden: Mapping[str, str] = field(default_factory=dict)
    error: UnitError | None = None
    warnings: tuple[Mapping[str, str], ...] = ()
    elapsed_s: float = 0.0

    def message(self, lang: str | None = None) -> str:
        """Why it failed, in ``lang`` (``""`` when done)."""
        return self.error.text(lang) if self.error else ""

    def notes(self, lang: str | None = None) -> str:
        """Its warnings in ``lang``, joined."""
        code = i18n.check_language(lang)
        return i18n.join((w.get(code, w.get("en", "")) for w in self.warnings), code)


@dataclass(frozen=True, kw_only=True)
class BatchProgress:
    """How far a batch is: counts, elapsed time and the units being worked on.

    Attributes
    ----------
    total, done, failed, reused
        Units in the batch; finished with a plan (reused ones included); failed; reused.
    elapsed_s
        Seconds since the batch started.
    running
        ``(unit name, stage)`` of each unit in flight; stage is ``"waiting"`` (sent, not
        started), ``"preparing"``, ``"solving"``, ``"summarising"`` or ``"writing"``.
    finished
        The unit that finished last (``None`` when the update is a clock tick).
    """

    total: int
    done: int
    failed: int
    reused: int
    elapsed_s: float
    running: tuple[tuple[str, str], ...] = ()
    finished: UnitOutcome | None = None

    @property
    def fraction(self) -> float:
        """Share of the units finished (done or failed), 0-1."""
        return (self.done + self.failed) / self.total if self.total else 1.0

    def text(self, lang: str | None = None) -> str:
        """One line: ``3 of 9 units done (1 failed) · 01:23 · now: 三明市 (solving)``."""
        line = i18n.text(
            "batch.progress",
            lang,
            finished=self.done + self.failed,
            total=self.total,
            failed=self.failed,
            reused=self.reused,
            elapsed=format_elapsed(self.elapsed_s),
        )
        if self.running:
            units = [
                i18n.text(
                    "batch.running_unit",
                    lang,
                    name=name,
                    stage=i18n.text(f"batch.stage_{st}", lang),
                )
                for name, st in self.running
            ]
            line += i18n.text("batch.progress_running", lang, units=i18n.join(units, lang))
        return line


def format_elapsed(seconds: float) -> str:
    """``mm:ss``, or ``h:mm:ss`` from an hour on."""
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


@dataclass(frozen=True, kw_only=True)
class BatchResult:
    """A finished batch: every unit's outcome and the roll-up files.

    Attributes
    ----------
    region, by
        Region name (``"福建省"``, ``"全国"``) and unit level.
    out_dir
        The batch folder.
    template
        The template scenario.
    units
        One outcome per unit, by adcode.
    files
        The roll-up files (``batch_summary.csv``, ``.xlsx``, maps, ``batch.json``).
    elapsed_s
        Wall time.
    workers
        Worker threads used (0 when every unit was reused).
    rollup
        The roll-up as shown, when read back from ``batch.json`` (:func:`read_batch`);
        otherwise :meth:`table` computes it.
    """

    region: str
    by: str
    out_dir: Path
    template: Scenario
    units: tuple[UnitOutcome, ...]
    files: tuple[Path, ...] = ()
    elapsed_s: float = 0.0
    workers: int = 0
    rollup: pd.DataFrame | None = None

    @property
    def failed(self) -> tuple[UnitOutcome, ...]:
        """Units without a plan."""
        return tuple(u for u in self.units if u.status != "done")

    @property
    def n_done(self) -> int:
        """Units with a plan (reused ones included)."""
        return sum(u.status == "done" for u in self.units)

    @property
    def n_reused(self) -> int:
        """Units whose plan was kept from an earlier run."""
        return sum(u.reused for u in self.units)

    @property
    def ok(self) -> bool:
        """Every unit has a plan."""
        return not self.failed

    def table(self, *, lang: Lang = "zh") -> pd.DataFrame:
        """Return the roll-up as shown (privacy rule applied): units and the ``"total"`` row."""
        if self.rollup is not None:
            return self.rollup.copy()
        return public_table(
            units_frame(self.units, lang=lang),
            threshold=self.template.privacy_threshold,
            hidden={u.unit.adcode: u.hidden for u in self.units},
        )

    def summary_lines(self, *, lang: str | None = None) -> list[str]:
        """Return what the command line prints at the end: counts, totals, milestones, files."""
        code = i18n.check_language(lang)
        lines = [
            i18n.text(
                "batch.summary_head",
                code,
                region=self.region,
                level=i18n.text(f"batch.level_{self.by}", code),
                units=len(self.units),
                workers=self.workers,
                elapsed=format_elapsed(self.elapsed_s),
            )
        ]
        lines += key_lines(self.table(lang=code), self.rollup_info(), lang=code)
        if self.n_reused:
            lines.append(i18n.text("batch.summary_reused", code, reused=self.n_reused))
        lines += [
            i18n.text("batch.summary_failed_unit", code, **_unit_params(u), message=u.message(code))
            for u in self.failed
        ]
        noted = sum(bool(u.warnings) for u in self.units)
        if noted:
            lines.append(i18n.text("batch.summary_notes", code, units=noted))
        if self.files:
            lines.append(i18n.text("batch.summary_files", code, folder=str(self.out_dir)))
        return lines

    def rollup_info(self) -> RollupInfo:
        """Region, level, template and run figures, as the roll-up files state them."""
        return RollupInfo(
            region=self.region,
            by=self.by,
            template=self.template,
            workers=self.workers,
            elapsed_s=self.elapsed_s,
        )


def _unit_params(outcome: UnitOutcome) -> dict[str, str]:
    return {"adcode": outcome.unit.adcode, "name": outcome.unit.name}


def units_frame(outcomes: Iterable[UnitOutcome], *, lang: Lang) -> pd.DataFrame:
    """One row per unit for :func:`planning.report.batch.public_table` and ``export_rollup``.

    Figures are exact here: the privacy rule is applied by those functions.
    """
    rows = []
    for o in outcomes:
        f = dict(o.figures or {})
        rows.append(
            {
                "adcode": o.unit.adcode,
                "name": o.unit.name,
                "province": o.unit.province,
                "status": o.status,
                "reused": o.reused,
                "solver_status": f.get("solver_status"),
                "gap": f.get("gap"),
                **{k: _count(f.get(k)) for k in FIGURES},
                "elapsed_s": o.elapsed_s,
                "folder": o.folder.name if o.folder else None,
                "message": o.message(lang),
                "notes": o.notes(lang),
            }
        )
    frame = pd.DataFrame(rows).set_index("adcode")
    frame.index = frame.index.astype(str)
    return frame


def _count(value: Any) -> float:
    """Return a figure as a number (NaN when missing or hidden text)."""
    if value is None or isinstance(value, str):
        return float("nan")
    return float(value)
