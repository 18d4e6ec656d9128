"""Why no plan exists: requirements that cannot hold, and the rule family to relax.

:func:`precheck` refuses, before any solve, requirements the data cannot meet (a demand point
no candidate reaches, a county without candidates...). When a solve proves infeasibility,
:func:`diagnose` relaxes each active rule family in turn (:data:`~planning.models.options.
FAMILIES`, most specific first) and blames the first whose removal gives a plan. Messages
name the family and the fix as :class:`~planning.i18n.Msg` parameters, so they read in the
caller's language.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from planning.errors import InfeasibleError
from planning.i18n import Msg
from planning.models._mip import INF, BoolArray
from planning.models._prep import Prepared
from planning.models.options import FAMILIES, MODEL_LABELS, ModelOptions

#: ``attempt(data, options)``: whether a plan exists (a solve that ends without an error).
Attempt = Callable[[Prepared, ModelOptions], bool]


def precheck(prep: Prepared, opts: ModelOptions) -> None:
    """Raise a specific :class:`InfeasibleError` for requirements that cannot hold."""
    kind = opts.kind
    pos = prep.weight > 0
    thr_set = opts.has_thresholds
    if kind == "lscp":
        cover = prep.covering_pairs() & prep.openable[prep.pj]
        culprit = "travel_thresholds" if thr_set else "max_travel_min"
        _no_pair_error(prep, opts, pos, cover, culprit=culprit)
    elif kind in ("p_median", "p_center"):
        allowed = prep.openable[prep.pj].copy()
        if thr_set:
            allowed &= prep.covering_pairs()
        culprit = "travel_thresholds" if thr_set else "travel_table"
        _no_pair_error(prep, opts, pos, allowed, culprit=culprit)
    counties = prep.demand_counties()
    open_c = set(prep.site_county[prep.openable])
    if opts.site_in_every_county:
        lacking = [c for c in counties if c not in open_c]
        if lacking:
            raise InfeasibleError(
                "models.county_without_candidate",
                culprit="site_in_every_county",
                counties=_county_names(prep, lacking),
            )
    if opts.min_county_share is not None and counties:
        need = math.ceil(opts.min_county_share * len(counties) - 1e-9)
        have = sum(c in open_c for c in counties)
        if have < need:
            raise InfeasibleError(
                "models.county_share_unreachable",
                culprit="min_county_share_with_site",
                share=opts.min_county_share,
                need=need,
                counties=len(counties),
                have=have,
            )
    if opts.hub_per_prefecture:
        open_p = set(prep.site_prefecture[prep.openable])
        lacking = [p for p in prep.demand_prefectures() if p not in open_p]
        if lacking:
            raise InfeasibleError(
                "models.prefecture_without_candidate",
                culprit="hub_per_prefecture",
                prefectures=lacking,
            )
    if opts.county_target is not None and kind != "lscp":
        _check_county_target(prep, opts.county_target)
    if opts.capacitated and kind in ("lscp", "p_median", "p_center"):
        total_cap = float(prep.capacity[prep.openable].sum())
        need_w = float(prep.weight.sum())
        if total_cap + 1e-9 < need_w:
            raise InfeasibleError(
                "models.capacity_short",
                culprit="capacity",
                model=MODEL_LABELS[kind],
                patients=need_w,
                capacity=total_cap,
            )


def _check_county_target(prep: Prepared, target: float) -> None:
    cover = prep.covering_pairs() & prep.openable[prep.pj]
    coverable = np.zeros(prep.n, dtype=bool)
    coverable[prep.pi[cover]] = True
    frame = pd.DataFrame({"c": prep.county, "w": prep.weight, "ok": coverable})
    for c, grp in frame[frame["w"] > 0].groupby("c", sort=True):
        total = float(grp["w"].sum())
        within = float(grp.loc[grp["ok"], "w"].sum())
        share = within / total
        if share + 1e-9 < target:
            raise InfeasibleError(
                "models.county_target_unreachable",
                culprit="county_coverage_target",
                target=target,
                county=_county_names(prep, [str(c)]),
                share=share,  # shown by the privacy rule at the solve boundary
                patients_total=total,
                patients_within=within,
            )


def _county_names(prep: Prepared, codes: list[str]) -> str:
    out = []
    for c in codes:
        names = prep.county_name[prep.county == c]
        name = next((n for n in names if n), "")
        out.append(f"{name} ({c})" if name else c)
    return ", ".join(out)


def _no_pair_error(
    prep: Prepared, opts: ModelOptions, pos: BoolArray, mask: BoolArray, *, culprit: str
) -> None:
    """Raise when demand points with patients have no pair in ``mask`` (none may serve them)."""
    has = np.zeros(prep.n, dtype=bool)
    has[prep.pi[mask]] = True
    bad = np.flatnonzero(pos & ~has)
    if bad.size == 0:
        return
    nearest = np.full(prep.n, INF)
    openable_pairs = prep.openable[prep.pj]
    np.minimum.at(nearest, prep.pi[openable_pairs], prep.pt[openable_pairs])
    parts: list[Msg] = []
    frame = pd.DataFrame(
        {
            "county": [prep.county_name[i] or prep.county[i] or "" for i in bad],
            "w": prep.weight[bad],
            "near": nearest[bad],
        }
    )
    for county, grp in frame.groupby("county", sort=True):
        near = float(grp["near"].min())
        figures = {"patients": float(grp["w"].sum()), "county": str(county), "minutes": near}
        if math.isfinite(near):
            key = "models.patients_near_in_county" if county else "models.patients_near"
        else:
            key = "models.patients_unreached_in_county" if county else "models.patients_unreached"
        parts.append(Msg(key, **figures))
    ids = ", ".join(str(d) for d in prep.demand_ids[bad[:5]])
    if culprit == "travel_thresholds":
        fix = Msg("models.fix_thresholds")
    elif opts.kind == "lscp":
        fix = Msg("models.fix_lscp_uncovered")
    else:
        fix = Msg("models.fix_unassignable")
    if opts.kind == "lscp":
        raise InfeasibleError(
            "models.lscp_uncovered",
            culprit=culprit,
            minutes=opts.max_travel_min,
            parts=parts,
            ids=ids,
            fix=fix,
        )
    raise InfeasibleError(
        "models.unassignable",
        culprit=culprit,
        model=MODEL_LABELS[opts.kind],
        parts=parts,
        ids=ids,
        fix=fix,
    )


def active_families(opts: ModelOptions) -> list[str]:
    """Return the rule families of :data:`FAMILIES` that ``opts`` switches on."""
    active = {
        "max_travel_min": opts.kind == "lscp" or opts.county_target is not None,
        "travel_thresholds": opts.has_thresholds,
        "county_coverage_target": opts.county_target is not None,
        "site_in_every_county": opts.site_in_every_county,
        "min_county_share_with_site": opts.min_county_share is not None,
        "hub_per_prefecture": opts.hub_per_prefecture,
        "budget": opts.budget is not None,
        "capacity": opts.capacitated,
        "max_referral_min": opts.max_referral_min is not None,
        "n_facilities": opts.p is not None and opts.kind != "lscp",
    }
    return [f for f in FAMILIES if active[f]]


#: What to change when a family is to blame (catalog keys ``models.hint_<family>``).
HINTS: dict[str, Msg] = {f: Msg(f"models.hint_{f}") for f in FAMILIES}


def family_name(family: str) -> Msg:
    """Return the name of a rule family, rendered in the reader's language."""
    return Msg(f"models.family_{family}")


def _joined(items: list[Msg], key: str) -> Msg:
    """``items`` joined pairwise by the catalog text ``key`` (``{first}`` and ``{rest}``)."""
    if len(items) == 1:
        return items[0]
    return Msg(key, first=items[0], rest=_joined(items[1:], key))


def diagnose(prep: Prepared, opts: ModelOptions, attempt: Attempt) -> InfeasibleError:
    """Relax each active constraint family in turn; blame the first whose removal helps.

    ``attempt`` tries the relaxed problem (within at most 10 s) and says whether a plan
    exists.
    """
    families = active_families(opts)
    label = MODEL_LABELS[opts.kind]
    helps: list[str] = []
    for fam in families:
        relax = frozenset({fam})
        r_opts = opts.relax(relax).replace(time_limit_s=min(10.0, opts.time_limit_s))
        r_prep = prep.relaxed(relax, opts.max_travel_min)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if attempt(r_prep, r_opts):
                helps.append(fam)
    if helps:
        fam = helps[0]
        params = {"model": label, "family": family_name(fam), "hint": HINTS[fam]}
        if len(helps) == 1:
            return InfeasibleError("models.infeasible_culprit", culprit=fam, **params)
        others = [Msg("models.family_quoted", family=family_name(f)) for f in helps[1:]]
        return InfeasibleError(
            "models.infeasible_culprit_also",
            culprit=fam,
            others=_joined(others, "models.or_join"),
            **params,
        )
    listed = [Msg("models.family_listed", family=family_name(f)) for f in families]
    return InfeasibleError(
        "models.infeasible_conflict",
        culprit=None,
        model=label,
        families=_joined(listed, "models.comma_join") if listed else Msg("models.families_none"),
    )
