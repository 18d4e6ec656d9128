"""The batch's record, ``batch.json``: written at the end of a run, read to show it again.

It holds the run (region, level, template, workers, time), each unit (status, message,
warnings, figures as the unit's own files show them) and the roll-up as shown, so
:func:`read_batch` gives back a :class:`~planning.batch.result.BatchResult` without any
hidden count.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from planning import i18n
from planning._atomic import write_text
from planning.batch.result import BatchResult, UnitError, UnitOutcome
from planning.batch.units import BatchRegion, BatchUnit
from planning.errors import DataError
from planning.scenario import Scenario

BATCH_JSON = "batch.json"
"""Record of the last run in the batch folder (units, messages, public figures)."""
BATCH_FORMAT = 1


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        return _jsonable(value.item())
    return value


def write_record(
    result: BatchResult, batch: BatchRegion, digests: Mapping[str, str], public: pd.DataFrame
) -> Path:
    """Write ``batch.json``: the run, each unit (status, message, figures as shown), the roll-up.

    Hidden counts are written as the unit's own files show them (``"<5"``, ``"≥L"``).
    """
    units = []
    for o in result.units:
        figures = {**dict(o.figures or {}), **o.hidden}
        units.append(
            {
                "adcode": o.unit.adcode,
                "name": o.unit.name,
                "level": o.unit.level,
                "province": o.unit.province,
                "folder": o.unit.folder,
                "scenario_hash": digests[o.unit.adcode],
                "status": o.status,
                "reused": o.reused,
                "elapsed_s": round(o.elapsed_s, 2),
                "figures": figures if o.status == "done" else None,
                "hidden": dict(o.hidden),
                "error": None
                if o.error is None
                else {
                    "kind": o.error.kind,
                    "code": o.error.code,
                    **o.error.texts,
                    **({"traceback": o.error.traceback} if o.error.traceback else {}),
                },
                "warnings": [dict(w) for w in o.warnings],
            }
        )
    data = {
        "format": BATCH_FORMAT,
        "region": batch.name,
        "region_adcode": batch.adcode,
        "by": batch.by,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(result.elapsed_s, 2),
        "workers": result.workers,
        "template": result.template.to_dict(),
        "units": units,
        "rollup": [
            {"adcode": str(a), **{str(k): _jsonable(v) for k, v in row.items()}}
            for a, row in public.iterrows()
        ],
    }
    path = result.out_dir / BATCH_JSON
    return write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")  # atomic


def read_batch(out_dir: str | Path) -> BatchResult:
    """Read the last run of a batch folder (its ``batch.json``), e.g. to show it again.

    Figures are as the roll-up shows them (hidden counts stay hidden).

    Raises
    ------
    DataError
        The folder has no readable ``batch.json``.
    """
    out = Path(out_dir).expanduser().resolve()
    try:
        data = json.loads((out / BATCH_JSON).read_text(encoding="utf-8"))
        template = Scenario.from_dict(data["template"])
        units = []
        for u in data["units"]:
            unit = BatchUnit(
                adcode=str(u["adcode"]),
                name=str(u["name"]),
                level=str(u["level"]),
                province=str(u["province"]),
            )
            err = u.get("error")
            units.append(
                UnitOutcome(
                    unit=unit,
                    status="done" if u["status"] == "done" else "failed",
                    reused=bool(u.get("reused")),
                    folder=out / unit.folder if u["status"] == "done" else None,
                    figures=u.get("figures"),
                    hidden=dict(u.get("hidden") or {}),
                    error=None
                    if not err
                    else UnitError(
                        kind=str(err.get("kind")),
                        code=str(err.get("code")),
                        texts={lang: str(err.get(lang, "")) for lang in i18n.LANGS},
                        traceback=str(err.get("traceback", "")),
                    ),
                    warnings=tuple(u.get("warnings") or ()),
                    elapsed_s=float(u.get("elapsed_s") or 0.0),
                )
            )
        rollup = pd.DataFrame.from_records(data["rollup"]).set_index("adcode")
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DataError("batch.record_unreadable", folder=str(out), reason=str(err)) from None
    files = [
        p
        for p in sorted(out.iterdir())
        if p.is_file() and p.name.startswith(("batch_summary", "batch_map", BATCH_JSON))
    ]
    return BatchResult(
        region=str(data["region"]),
        by=str(data["by"]),
        out_dir=out,
        template=template,
        units=tuple(units),
        files=tuple(files),
        elapsed_s=float(data.get("elapsed_s") or 0.0),
        workers=int(data.get("workers") or 0),
        rollup=rollup,
    )
