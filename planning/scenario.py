"""The :class:`Scenario`: every choice that changes a result, as validated data.

A scenario round-trips through JSON (:meth:`Scenario.to_json` / :meth:`Scenario.from_json`);
unknown keys are refused and named. The app builds one from its widgets, the command line from
its options, and every export writes it next to the results as ``scenario.json``.

Defaults describe the Putian (莆田市) demo and the national policy (精康融合行动, 2023):

* registered prevalence 4.60 per mille: registered patients with severe mental disorders in
  China at the end of 2020, 6,430,587 / 1,396,537,459 (Zhang Wufang et al., Chin J Psychiatry
  2021; see ``data/smd_prevalence_sources.csv``);
* in-scope share 1.0: every registered patient is counted as potential demand for community
  rehabilitation. Lower it to plan for the share expected to use services;
* travel: straight-line distance x 1.4 detour factor (Boscoe, Henry & Zdeb 2012, mean
  road/straight-line ratio 1.417) at 30 km/h in urban and 45 km/h in rural areas (planning
  assumptions for mixed urban traffic and county roads; edit them for your area);
* milestones 2023/2024/2025: 50/65/80 % of counties offering services and 30/45/60 % of
  registered patients in regular service.
"""

from __future__ import annotations

import codecs
import json
import warnings
from dataclasses import replace
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from planning import _atomic, i18n
from planning.defaults import DEFAULT_SPEEDS_KMH
from planning.errors import OptionProblem, PlanningError, PlanningWarning, ScenarioError
from planning.i18n import Joined, Msg

DEMO_REGION = "莆田市"
"""The region the tool opens on (the Putian demo): its default scenario is "莆田市示范方案"."""

FORMAT_VERSION = 1
"""Version of the scenario file format this release writes and reads (``format_version``).

A file of a newer version (from a newer release, with options this one does not know) is
refused as such; files without the key are version 1.
"""

ModelName = Literal["mclp", "p_median", "lscp", "p_center"]
SolverName = Literal["highs", "cbc"]
CoordSystemName = Literal["wgs84", "gcj02", "bd09", "cgcs2000"]

PositiveFloat = Annotated[float, Field(gt=0)]
Share = Annotated[float, Field(ge=0, le=1)]


class _Frozen(BaseModel):
    # numbers are finite: "inf" minutes or a NaN share are refused, and JSON stays standard
    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False
    )


class TravelSettings(_Frozen):
    """How travel minutes between patients and sites are obtained.

    ``mode="estimated"``: geodesic distance x ``detour_factor`` / speed, where the speed of a
    trip is the harmonic blend of ``urban_speed_kmh`` and ``rural_speed_kmh`` by the origin
    county's urban population share (2020 census). Labelled "estimated (straight-line)".

    ``mode="network"``: shortest paths on the OpenStreetMap road network (downloaded and cached,
    or read from ``osm_file``), with per-road-class speeds (``road_speeds_kmh`` overrides the
    defaults), plus an access leg at ``access_speed_kmh`` from each point to its snapped node.
    ``road_speeds_kmh`` keys: an OSM ``highway`` class (``"primary"``: urban and rural),
    ``"urban:<class>"`` / ``"rural:<class>"`` (one of them) or ``"walk"`` (walking network;
    default ``access_speed_kmh``); defaults and sources in :mod:`planning.defaults`. Points
    farther than ``max_snap_m`` from the road network are reported, not routed.
    """

    mode: Literal["estimated", "network"] = "estimated"
    detour_factor: Annotated[float, Field(ge=1.0, le=5.0)] = 1.4
    urban_speed_kmh: PositiveFloat = 30.0
    rural_speed_kmh: PositiveFloat = 45.0
    network_type: Literal["drive", "walk"] = "drive"
    osm_file: str | None = None
    road_speeds_kmh: dict[str, PositiveFloat] = Field(default_factory=dict)
    access_speed_kmh: PositiveFloat = 4.5
    max_snap_m: PositiveFloat = 2000.0

    @field_validator("road_speeds_kmh")
    @classmethod
    def _known_road_classes(cls, speeds: dict[str, float]) -> dict[str, float]:
        """Refuse keys that would be silently ignored (a misspelt class or prefix)."""
        if not speeds:
            return speeds

        def known(key: str) -> bool:
            prefix, _, road = key.rpartition(":")
            return key == "walk" or (
                prefix in {"", "urban", "rural"} and road in DEFAULT_SPEEDS_KMH
            )

        bad = sorted(k for k in speeds if not known(k))
        if bad:
            raise ScenarioError(
                "scenario.road_speed_keys_unknown",
                keys=", ".join(map(repr, bad)),
                classes=", ".join(DEFAULT_SPEEDS_KMH),
            )
        return speeds


class CandidateType(_Frozen):
    """A kind of site that can be opened, with its opening cost and capacity.

    ``name`` matches the ``type`` column of the facility table (for example
    ``"community_service_centre"``, ``"community_health_centre"``, ``"new_build"``);
    ``"generated"`` applies to generated grid candidates.
    """

    name: str
    opening_cost: Annotated[float, Field(ge=0)] = 0.0
    capacity: PositiveFloat | None = None


class Constraints(_Frozen):
    """Requirements any model can add (each ``None``/``False`` means "not imposed")."""

    capacitated: bool = False
    default_capacity: PositiveFloat | None = None
    #: with capacities: each demand point served by one site only (else split over sites)
    single_source: bool = False
    budget: Annotated[float, Field(ge=0)] | None = None
    site_in_every_county: bool = False
    min_county_share_with_site: Share | None = None
    county_coverage_target: Share | None = None
    hub_per_prefecture: bool = False
    max_referral_min: PositiveFloat | None = None
    urban_max_travel_min: PositiveFloat | None = None
    rural_max_travel_min: PositiveFloat | None = None
    # the fairest plan (planning.models.max_min): the worst-off county's share within reach
    # first, total coverage as the tie-break; MCLP only
    worst_county_first: bool = False


class Phase(_Frozen):
    """One period (year) of a phased rollout, with its resources and milestone targets."""

    year: int
    new_sites: Annotated[int, Field(ge=0)] | None = None
    budget: Annotated[float, Field(ge=0)] | None = None
    county_share_target: Share = 0.0
    patient_share_target: Share = 0.0


def _policy_phases() -> tuple[Phase, ...]:
    return (
        Phase(year=2023, new_sites=2, county_share_target=0.50, patient_share_target=0.30),
        Phase(year=2024, new_sites=2, county_share_target=0.65, patient_share_target=0.45),
        Phase(year=2025, new_sites=2, county_share_target=0.80, patient_share_target=0.60),
    )


class RolloutSettings(_Frozen):
    """Multi-year plan settings; defaults are the 2023-2025 milestones of 精康融合行动."""

    phases: tuple[Phase, ...] = Field(default_factory=_policy_phases)
    early_year_weight: Annotated[float, Field(ge=1.0)] = 1.0

    @field_validator("phases")
    @classmethod
    def _years_increase(cls, phases: tuple[Phase, ...]) -> tuple[Phase, ...]:
        years = [p.year for p in phases]
        if years != sorted(set(years)):
            raise ScenarioError("scenario.phase_years_not_increasing", years=years)
        return phases


class Scenario(_Frozen):
    """Every choice that changes a result.

    Distances are in metres (``*_m``), times in minutes (``*_min``), speeds in km/h.
    Construct with keywords; invalid values raise :class:`~planning.errors.ScenarioError`
    naming the field and what to enter instead.

    Examples
    --------
    >>> s = Scenario(name="demo", model="p-median", n_facilities=4)
    >>> s.model
    'p_median'
    >>> Scenario.from_json(s.to_json()) == s
    True
    """

    # None: named after the region (``title``), "莆田市示范方案" for the Putian demo
    name: str | None = None
    region: str = DEMO_REGION
    counties: tuple[str, ...] | None = None
    prevalence_per_mille: Annotated[float, Field(gt=0, le=100)] = 4.60
    in_scope_share: Annotated[float, Field(gt=0, le=1)] = 1.0
    cell_size_m: Annotated[float, Field(ge=200, le=50_000)] = 2000.0
    weight_layer: str | None = None
    patients_file: str | None = None
    candidate_source: Literal["grid", "facilities", "grid+facilities", "osm", "grid+osm"] = "grid"
    candidate_spacing_m: Annotated[float, Field(ge=200, le=100_000)] = 5000.0
    facilities_file: str | None = None
    facilities_crs: CoordSystemName | str = "wgs84"
    # the system the planner's facility table came in (e.g. "gcj02" copied from AMap), when
    # ``facilities_file`` is a converted copy (the app stores uploads in WGS-84); provenance
    # only, results do not depend on it. ``None``: the table came in ``facilities_crs``.
    facilities_input_crs: CoordSystemName | str | None = None
    # an OpenStreetMap facility table (as ``python -m planning facilities`` writes it) that the
    # "osm" candidate sources read instead of a download or the cache; the export kit writes
    # the one a plan used (``inputs/osm_facilities.csv``), so its scenario re-runs offline alike
    osm_facilities_file: str | None = None
    travel: TravelSettings = Field(default_factory=TravelSettings)
    model: ModelName = "mclp"
    n_facilities: Annotated[int, Field(ge=1)] | None = 6
    max_travel_min: PositiveFloat = 30.0
    constraints: Constraints = Field(default_factory=Constraints)
    candidate_types: tuple[CandidateType, ...] = ()
    solver: SolverName = "highs"
    time_limit_s: PositiveFloat = 60.0
    mip_gap: Annotated[float, Field(ge=0, lt=1)] = 0.0
    privacy_threshold: Annotated[int, Field(ge=0)] = 5
    rollout: RolloutSettings = Field(default_factory=RolloutSettings)
    format_version: Annotated[int, Field(ge=1, le=FORMAT_VERSION)] = FORMAT_VERSION

    @field_validator("model", mode="before")
    @classmethod
    def _normalise_model(cls, value: Any) -> Any:
        return value.strip().lower().replace("-", "_") if isinstance(value, str) else value

    @field_validator("solver", mode="before")
    @classmethod
    def _normalise_solver(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_model_options(self) -> Scenario:
        needs_p = self.model in {"mclp", "p_median", "p_center"}
        if needs_p and self.n_facilities is None and self.constraints.budget is None:
            raise ScenarioError("scenario.model_needs_sites", model=self.model)
        if self.constraints.worst_county_first and self.model != "mclp":
            raise ScenarioError("scenario.worst_county_first_needs_mclp", model=self.model)
        return self

    # ---------------------------------------------------------------- construction & JSON
    def __init__(self, **data: Any) -> None:
        _check_format_version(data)
        try:
            super().__init__(**data)
        except ValidationError as err:
            raise _explain(err, data.get("name")) from None

    def to_dict(self) -> dict[str, Any]:
        """Return the scenario as plain JSON-compatible data."""
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        """Return the scenario as JSON text (sorted keys, UTF-8 characters kept)."""
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        """Build a scenario from plain data; unknown keys raise ``ScenarioError`` naming them."""
        if not isinstance(data, dict):
            raise ScenarioError("scenario.not_an_object", kind=type(data).__name__)
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        """Parse JSON text produced by :meth:`to_json`."""
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except json.JSONDecodeError as err:
            raise ScenarioError("scenario.json_invalid", reason=str(err)) from None
        except ValueError as err:  # NaN / Infinity: not standard JSON
            raise ScenarioError("scenario.json_invalid", reason=str(err)) from None
        except RecursionError:
            raise ScenarioError("scenario.json_invalid", reason="nested too deeply") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """Read a ``scenario.json`` file.

        UTF-8 (with or without a byte-order mark) is read as it is, UTF-16 and UTF-32 with a
        byte-order mark too; a file saved as GBK/GB18030 (Notepad on Chinese Windows) is read
        with a :class:`~planning.errors.PlanningWarning` asking to save it as UTF-8.

        Raises
        ------
        ScenarioError
            The file cannot be read, is not text, not JSON, or not a valid scenario (each
            problem named); a file from a newer release is refused as such.
        """
        p = Path(path)
        try:
            if p.is_dir():
                raise IsADirectoryError(21, "Is a directory")
            size = p.stat().st_size
            if size > MAX_SCENARIO_BYTES:
                raise ScenarioError(
                    "scenario.file_too_large", path=str(p), mib=size / 2**20, limit_mib=1
                )
            data = p.read_bytes()
        except OSError as err:
            raise ScenarioError(
                "scenario.file_unreadable", path=str(p), reason=err.strerror or str(err)
            ) from None
        return cls.from_json(decode_json_text(data, str(p)))

    def save(self, path: str | Path) -> Path:
        """Write the scenario as UTF-8 JSON to ``path`` (atomically) and return the path.

        The file is written next to ``path`` and renamed over it when complete, so a failed
        write (disk full, read-only) leaves the old file as it was.

        Raises
        ------
        WriteError
            The file could not be written; the message says why and what to do.
        """
        return _atomic.write_text(Path(path), self.to_json() + "\n")

    def replace(self, **changes: Any) -> Scenario:
        """Return a copy with ``changes`` applied and validated (nested models as dicts too)."""
        data = self.to_dict()
        data.update(
            {k: (v.to_dict() if isinstance(v, Scenario) else v) for k, v in changes.items()}
        )
        return Scenario.from_dict(_jsonable(data))

    def title(self, lang: str | None = None) -> str:
        """Return the scenario's name; without one, a name that follows the region.

        ``"福建省方案"`` / ``"福建省 plan"`` (catalog ``regions.plan_name``), and
        ``"莆田市示范方案"`` for the Putian demo (region 莆田市, all its counties).

        Examples
        --------
        >>> Scenario(region="泉州市").title("zh"), Scenario().title("en")
        ('泉州市方案', '莆田市示范方案')
        """
        if self.name and self.name.strip():
            return self.name
        if self.region == DEMO_REGION and not self.counties:
            return i18n.text("regions.demo_plan_name", lang)
        region = "".join(p.strip() for p in self.region.replace("\\", "/").split("/"))
        return i18n.text("regions.plan_name", lang, region=region)

    @property
    def display_name(self) -> str:
        """:meth:`title` in the default language (``KANGLE_LANG``, else Chinese)."""
        return self.title()

    def with_budget(self, budget: float) -> Scenario:
        """Return this scenario limited by an opening ``budget`` alone (no number of sites).

        The other constraints are kept: one step of a budget trade-off curve
        (:func:`planning.models.trade_off_curve` with ``budgets``).
        """
        constraints = {**self.constraints.model_dump(mode="json"), "budget": budget}
        return self.replace(n_facilities=None, constraints=constraints)

    @property
    def facilities_source_crs(self) -> str:
        """Coordinate system the facility table was supplied in (see ``facilities_input_crs``)."""
        return self.facilities_input_crs or self.facilities_crs

    @property
    def travel_label(self) -> str:
        """Human label of the travel mode, shown with every result."""
        if self.travel.mode == "estimated":
            return "estimated (straight-line)"
        return "road network (OpenStreetMap)"


MAX_SCENARIO_BYTES = 1 << 20
"""Largest scenario file read (1 MiB; a scenario is a few kB)."""


def decode_json_text(data: bytes, name: str) -> str:
    """Decode a scenario file's bytes: UTF-8 (BOM or not), UTF-16/32 with a BOM, else GB18030.

    Raises
    ------
    ScenarioError
        No such encoding fits (a binary file, a damaged one).
    """
    boms = (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    )
    for bom, encoding in boms:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                break
    else:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
        if b"\x00" not in data:
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError:
                pass
            else:
                warning = PlanningWarning("scenario.file_not_utf8", path=name)
                warnings.warn(warning, stacklevel=3)
                return text
    raise ScenarioError("scenario.file_not_text", path=name)


def _refuse_constant(name: str) -> Any:
    """``json.loads`` hook: ``NaN``, ``Infinity`` and ``-Infinity`` are not standard JSON."""
    msg = f"{name} is not a JSON number (write a finite number)"
    raise ValueError(msg)


def _check_format_version(data: dict[str, Any]) -> None:
    """Refuse a scenario from a newer release as such (before its unknown options are named)."""
    version = data.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise ScenarioError(
            "scenario.format_newer",
            name=data.get("name") or "",
            version=version,
            supported=FORMAT_VERSION,
        )


def _jsonable(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, dict):
        return {k: _jsonable(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_jsonable(v) for v in data]
    return data


_UNITS = (
    ("_per_mille", Msg("scenario.unit_per_mille")),
    ("_share", Msg("scenario.unit_share")),
    ("_kmh", Msg("scenario.unit_kmh")),
    ("_min", Msg("scenario.unit_minutes")),
    ("_m", Msg("scenario.unit_metres")),
    ("_s", Msg("scenario.unit_seconds")),
)
_BOUND_WORDS = ("gt", "ge", "lt", "le")


def _explain(err: ValidationError, name: Any) -> ScenarioError:
    """Turn pydantic's errors into one error listing one problem per option."""
    problems: dict[str, OptionProblem] = {}
    for e in err.errors():
        problem = _problem(e)
        seen = problems.get(problem.field)
        if seen is not None and problem.field:  # one field failing each arm of a union
            if seen.allowed_msg is not None and problem.allowed_msg is not None:
                either = Msg(
                    "scenario.allowed_either", first=seen.allowed_msg, second=problem.allowed_msg
                )
                problem = replace(seen, allowed_msg=either)
            else:
                problem = seen
        problems[problem.field or f"#{len(problems)}"] = problem
    found = tuple(problems.values())
    details = Joined([p.message for p in found])
    if name:
        return ScenarioError("scenario.invalid_named", name=name, details=details, problems=found)
    return ScenarioError("scenario.invalid", details=details, problems=found)


def _problem(e: Any) -> OptionProblem:
    """One pydantic error as an :class:`OptionProblem` (field, value given, what is allowed)."""
    loc = tuple(e["loc"])
    field, annotation, info = _resolve(loc)
    value = e.get("input")
    if e["type"] == "extra_forbidden":
        return OptionProblem(field=field, value=value, code="scenario.option_unknown")
    if e["type"] == "value_error":  # our own validators already say what to change
        cause = (e.get("ctx") or {}).get("error")
        if isinstance(cause, PlanningError):
            return OptionProblem(field=field, value=None, code=cause.code, params=cause.params)
        text = str(e["msg"]).removeprefix("Value error, ")
        return OptionProblem(
            field=field, value=None, code="scenario.validator_raw", params={"text": text}
        )
    leaf = field.rsplit(".", 1)[-1]
    unit = next((u for suffix, u in _UNITS if leaf.endswith(suffix)), None)
    default = None if info is None else info.get_default(call_default_factory=False)
    numeric = isinstance(default, int | float) and not isinstance(default, bool)
    return OptionProblem(
        field=field,
        value=value,
        code="scenario.option_missing" if e["type"] == "missing" else "scenario.option_not_allowed",
        option_name=_option_name(loc),
        allowed_msg=_allowed(e, annotation, info),
        unit_msg=unit,
        example=default if numeric else None,
    )


def _option_key(parts: list[str]) -> str:
    return "scenario.option_" + "_".join(parts)


def _name(parts: list[str]) -> Msg | str:
    """Return the catalog name of the option at ``parts``, or its dotted path when it has none."""
    key = _option_key(parts)
    return Msg(key) if key in i18n.catalog("en", "scenario") else ".".join(parts)


def _option_name(loc: tuple[Any, ...]) -> Msg | str:
    """Return the option at a pydantic error location as messages name it (Chinese: its name).

    ``rollout.phases.0.year`` is named from ``rollout.phases`` (``分期阶段``), the item
    (``0``) and the item's field (``year``, ``年份``); unknown keys keep their dotted path.
    """
    annotation: Any = Scenario
    head: list[str] = []
    tail: list[str] = []
    item: str | None = None
    for part in loc:
        inner = _unwrap(annotation)
        origin = get_origin(inner)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            if part not in inner.model_fields:
                return ".".join(str(p) for p in loc)
            (head if item is None else tail).append(str(part))
            annotation = inner.model_fields[part].annotation
        elif origin is dict or origin in {tuple, list}:
            if item is not None:
                return ".".join(str(p) for p in loc)
            item = str(part)
            annotation = get_args(inner)[1 if origin is dict else 0]
        # else: a union tag ("str", "literal[...]"): same option, nothing to add
    option = _name(head)
    if item is None:
        return option
    if not tail:
        return Msg("scenario.option_item", option=option, item=item)
    return Msg("scenario.option_item_field", option=option, item=item, field=_name(head + tail))


def _resolve(loc: tuple[Any, ...]) -> tuple[str, Any, FieldInfo | None]:
    """Follow a pydantic error location through the scenario's fields.

    Returns the dotted option path (without pydantic's union tags such as ``'str'``), the
    annotation at the end of it and the last field's :class:`FieldInfo`.
    """
    annotation: Any = Scenario
    info: FieldInfo | None = None
    path: list[str] = []
    for part in loc:
        inner = _unwrap(annotation)
        origin = get_origin(inner)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            if part not in inner.model_fields:
                path.append(str(part))  # unknown key
                annotation = None
                continue
            info = inner.model_fields[part]
            annotation = info.annotation
            path.append(str(part))
        elif origin is dict:
            path.append(str(part))
            annotation = get_args(inner)[1]
        elif origin in {tuple, list}:
            path.append(str(part))
            annotation = get_args(inner)[0]
        # else: a union tag ("str", "literal[...]"): same option, nothing to add
    return ".".join(path), annotation, info


def _unwrap(annotation: Any) -> Any:
    """Drop ``Annotated`` and ``None`` from an annotation (one non-None union arm only)."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if get_origin(annotation) in {Union, UnionType}:
            arms = [a for a in get_args(annotation) if a is not type(None)]
            if len(arms) == 1:
                annotation = arms[0]
                continue
        return annotation


def _bounds(annotation: Any, info: FieldInfo | None) -> dict[str, float]:
    """Return the numeric bounds (``gt``/``ge``/``lt``/``le``) declared on a field."""
    metadata: list[Any] = list(info.metadata) if info is not None else []
    stack = [annotation]
    while stack:
        current = stack.pop()
        if get_origin(current) is Annotated:
            _, *extra = get_args(current)
            for item in extra:
                metadata.extend(item.metadata if isinstance(item, FieldInfo) else [item])
            stack.append(get_args(current)[0])
        elif get_origin(current) in {Union, UnionType}:
            stack.extend(get_args(current))
    bounds: dict[str, float] = {}
    for item in metadata:
        for key in _BOUND_WORDS:
            limit = getattr(item, key, None)
            if isinstance(limit, int | float):
                bounds[key] = float(limit)
    return bounds


def _bound(key: str, limit: float) -> Msg:
    if key == "gt":
        return Msg("scenario.bound_gt", limit=limit)
    if key == "ge":
        return Msg("scenario.bound_ge", limit=limit)
    if key == "lt":
        return Msg("scenario.bound_lt", limit=limit)
    return Msg("scenario.bound_le", limit=limit)


def _kind(e: Any, annotation: Any) -> Msg | None:
    """Return the kind of value a field takes (a whole number, a number, text...), if known."""
    if e["type"] == "finite_number":
        return Msg("scenario.kind_finite")
    kinds = {
        "int": Msg("scenario.kind_int"),
        "float": Msg("scenario.kind_float"),
        "bool": Msg("scenario.kind_bool"),
        "str": Msg("scenario.kind_str"),
        "tuple": Msg("scenario.kind_list"),
        "list": Msg("scenario.kind_list"),
        "dict": Msg("scenario.kind_dict"),
    }
    base = _unwrap(annotation)
    return next(
        (word for prefix, word in kinds.items() if str(e["type"]).startswith(prefix)),
        kinds.get(getattr(base, "__name__", "")),
    )


def _choices(expected: Any) -> Msg | str:
    """Pydantic's ``'a', 'b' or 'c'`` with "or" in the reader's language."""
    if not isinstance(expected, str):
        return Msg("scenario.listed_choices")
    head, sep, last = expected.rpartition(" or ")
    return Msg("scenario.choices", head=head, last=last) if sep else expected


def _allowed_other(e: Any, annotation: Any) -> Msg:
    """Describe what a field of no simple kind accepts (a table of options, pydantic's words)."""
    base = _unwrap(annotation)
    if isinstance(base, type) and issubclass(base, BaseModel) and e["type"] == "model_type":
        return Msg("scenario.allowed_options_table", model=base.__name__)
    text = str(e["msg"]).replace("Input should be ", "").replace("valid ", "")
    return Msg("scenario.allowed_raw", text=text)


def _allowed(e: Any, annotation: Any, info: FieldInfo | None) -> Msg:
    """Describe what a field accepts, in words that follow "use" (or "give")."""
    ctx = e.get("ctx") or {}
    if e["type"] == "literal_error":
        return Msg("scenario.allowed_one_of", choices=_choices(ctx.get("expected")))
    kind = _kind(e, annotation)
    bounds = _bounds(annotation, info) or {
        k: float(v) for k, v in ctx.items() if k in _BOUND_WORDS and isinstance(v, int | float)
    }
    if not bounds:
        return kind if kind is not None else _allowed_other(e, annotation)
    kind = kind or Msg("scenario.kind_float")
    if set(bounds) == {"ge", "le"}:
        return Msg("scenario.allowed_range", kind=kind, low=bounds["ge"], high=bounds["le"])
    limits = [_bound(k, v) for k, v in bounds.items()]
    both = limits[-1]
    for first in reversed(limits[:-1]):
        both = Msg("scenario.bounds_both", first=first, second=both)
    number = kind.key in {"scenario.kind_int", "scenario.kind_float", "scenario.kind_finite"}
    if number and next(iter(bounds)) in {"ge", "le"}:
        return Msg("scenario.allowed_bounded_of", kind=kind, bounds=both)
    return Msg("scenario.allowed_bounded", kind=kind, bounds=both)
