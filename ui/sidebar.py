"""The shared sidebar: language switch and the scenario library (pick, save, manage)."""

from __future__ import annotations

import dataclasses

import streamlit as st

from planning.errors import PlanningError
from planning.scenario import Scenario
from planning.scenario_store import parse_upload, scenario_json_bytes
from ui import state
from ui.i18n import KEPT_LANG, LANGS, both, lang, t
from ui.messages import error_message


def _fail(err: PlanningError) -> None:
    state.notify("error", f"**{t('err_lead')}**\n\n{error_message(err, lang=lang())}")


def _current() -> Scenario | None:
    try:
        return Scenario.from_dict(dict(state.scenario_dict()))
    except PlanningError as err:
        _fail(err)
        return None


def _on_load() -> None:
    name = st.session_state.get("lib_pick")
    if not name:
        state.notify("warning", t("lib_pick_first"))
        return
    try:
        scenario = state.store().load(name)
    except PlanningError as err:
        _fail(err)
        return
    state.set_scenario(scenario, reset_widgets=True)
    state.set_plan(None)
    st.session_state["lib_name"] = scenario.name
    state.notify("success", t("lib_loaded", name=scenario.name))


def _on_save() -> None:
    scenario = _current()
    if scenario is None:
        return
    name = str(st.session_state.get("lib_name") or "").strip()
    overwrite = bool(st.session_state.get("lib_overwrite"))
    try:
        state.store().save(scenario, name=name, overwrite=overwrite)
        saved = scenario.replace(name=name)
    except PlanningError as err:
        _fail(err)
        return
    state.set_scenario(saved)
    plan = state.plan()
    if plan is not None and plan.scenario.replace(name=name) == saved:
        state.set_plan(dataclasses.replace(plan, scenario=saved))
    st.session_state["lib_pick"] = name
    st.session_state["lib_overwrite"] = False
    state.notify("success", t("lib_saved_msg", name=name))


def _on_rename() -> None:
    old = st.session_state.get("lib_pick")
    new = str(st.session_state.get("lib_new_name") or "").strip()
    if not old:
        state.notify("warning", t("lib_pick_first"))
        return
    try:
        state.store().rename(old, new)
    except PlanningError as err:
        _fail(err)
        return
    current = state.scenario_dict()
    if current.get("name") == old:
        current["name"] = new
        st.session_state["lib_name"] = new
    st.session_state["lib_pick"] = new
    st.session_state["lib_new_name"] = ""
    state.notify("success", t("lib_renamed", old=old, new=new))


def _on_duplicate() -> None:
    name = st.session_state.get("lib_pick")
    if not name:
        state.notify("warning", t("lib_pick_first"))
        return
    store = state.store()
    try:
        new = store.copy_name(name)
        store.duplicate(name, new)
    except PlanningError as err:
        _fail(err)
        return
    st.session_state["lib_pick"] = new
    state.notify("success", t("lib_duplicated", name=name, new=new))


def _on_delete() -> None:
    name = st.session_state.get("lib_pick")
    if not name:
        state.notify("warning", t("lib_pick_first"))
        return
    if not st.session_state.get("lib_confirm_delete"):
        state.notify("warning", t("lib_confirm_first"))
        return
    try:
        kept = state.store().delete(name)
    except PlanningError as err:
        _fail(err)
        return
    st.session_state["lib_pick"] = None
    st.session_state["lib_confirm_delete"] = False
    state.notify("success", t("lib_deleted", name=name, path=str(kept)))


def _on_import() -> None:
    upload = st.session_state.get("lib_upload")
    if upload is None:
        state.notify("warning", t("lib_upload_first"))
        return
    overwrite = bool(st.session_state.get("lib_overwrite"))
    try:
        scenario = parse_upload(upload.getvalue())
        state.store().save(scenario, overwrite=overwrite)
    except PlanningError as err:
        _fail(err)
        return
    state.set_scenario(scenario, reset_widgets=True)
    state.set_plan(None)
    name = scenario.display_name  # the name it was saved under (its region's, if it had none)
    st.session_state["lib_pick"] = name
    st.session_state["lib_name"] = name
    state.notify("success", t("lib_imported", name=name))


TRANSLATED_CHOICES = (
    "sc_model",
    "sc_travel_mode",
    "sc_network_type",
    "sc_candidate_source",
    "sc_basemap",
    "rg_basemap",
    "cmp_basemap",
    "to_basemap",
    "ro_basemap",
    "to_axis",
    "sens_robust",
    "rg_city",
    "bt_by",
    "rg_fac_crs",
    "rg_pat_crs",
)
"""Select boxes and radios whose option labels are translated (see _keep_translated_choices)."""


def _keep_translated_choices() -> None:
    """Keep translated choices when the language changes.

    The browser reports a choice by its label; after a language switch the old-language label
    matches no option and Streamlit would fall back to the first option (silently changing,
    e.g., the model). Re-setting each value through session state keeps the choice.
    """
    for key in TRANSLATED_CHOICES:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def render() -> None:
    """Draw the shared sidebar (every page)."""
    with st.sidebar:
        # st.switch_page drops the widget values of the interrupted run (streamlit#8425),
        # the language switch's too: it comes back from a plain copy (i18n.KEPT_LANG)
        if "lang" not in st.session_state:
            st.session_state["lang"] = lang()
        st.radio(
            both("lang_switch"),
            list(LANGS),
            key="lang",
            on_change=_keep_translated_choices,
            format_func=lambda code: LANGS[code],
            horizontal=True,
        )
        st.session_state[KEPT_LANG] = st.session_state["lang"]
        st.subheader(t("lib_title"))
        store = state.store()
        names = store.names()
        for aside in store.set_aside:
            st.warning(
                t(
                    "lib_set_aside",
                    file=aside.original.name,
                    kept=str(aside.kept_at),
                    reason=aside.reason,
                )
            )
        for note in store.notes:  # e.g. a scenario file read as GBK
            st.warning(note.text(lang()))
        if st.session_state.get("lib_pick") not in names:
            st.session_state["lib_pick"] = None
        st.selectbox(
            t("lib_saved"),
            names,
            key="lib_pick",
            index=None,
            placeholder=t("lib_none") if not names else t("lib_choose"),
        )
        st.button(t("lib_load"), key="lib_load", on_click=_on_load, width="stretch")
        current = state.scenario_dict()
        state.init_widget("lib_name", current.get("name", ""))
        st.text_input(t("lib_name"), key="lib_name", max_chars=80)
        st.checkbox(t("lib_overwrite"), key="lib_overwrite")
        st.button(t("lib_save"), key="lib_save", on_click=_on_save, type="primary", width="stretch")
        state.show_notice()
        with st.expander(t("lib_manage")):
            st.text_input(t("lib_new_name"), key="lib_new_name", max_chars=80)
            st.button(t("lib_rename"), key="lib_rename", on_click=_on_rename)
            st.button(t("lib_duplicate"), key="lib_duplicate", on_click=_on_duplicate)
            st.checkbox(t("lib_confirm_delete"), key="lib_confirm_delete")
            st.button(t("lib_delete"), key="lib_delete", on_click=_on_delete)
            scenario = _current()
            if scenario is not None:
                st.download_button(
                    t("lib_download"),
                    data=scenario_json_bytes(scenario),
                    file_name=f"{scenario.name or 'scenario'}.json",
                    mime="application/json",
                    key="lib_download",
                )
            st.file_uploader(t("lib_upload"), type=["json"], key="lib_upload")
            st.button(t("lib_import"), key="lib_import", on_click=_on_import)
            st.caption(t("lib_folder", path=str(store.root)))
