"""Kangle Planner (康乐家园选址规划) - the Streamlit app.

Run with ``streamlit run app.py``. This script only sets the page, configures logging once,
registers the pages and draws the shared sidebar; each page lives in ``ui/``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui import sidebar, state, style
from ui.i18n import both, t

HERE = Path(__file__).resolve().parent

st.set_page_config(page_title=both("app_name", sep=" · "), page_icon="🏡", layout="wide")
state.configure_logging()
state.scenario_dict()  # the Putian demo on first visit

pages = [
    st.Page(
        "ui/page_scenario.py",
        title=t("page_scenario"),
        icon=":material/map:",
        url_path="scenario",
        default=True,
    ),
    st.Page(
        "ui/page_region.py",
        title=t("page_region"),
        icon=":material/location_on:",
        url_path="region",
    ),
    st.Page(
        "ui/page_compare.py", title=t("page_compare"), icon=":material/compare:", url_path="compare"
    ),
    st.Page(
        "ui/page_tradeoff.py",
        title=t("page_tradeoff"),
        icon=":material/show_chart:",
        url_path="tradeoff",
    ),
    st.Page(
        "ui/page_sensitivity.py",
        title=t("page_sensitivity"),
        icon=":material/tune:",
        url_path="sensitivity",
    ),
]
pages.append(
    st.Page(
        "ui/page_batch.py",
        title=t("batch_page"),
        icon=":material/stacks:",
        url_path="batch",
    )
)
if (HERE / "ui" / "rollout_page.py").exists():
    pages.append(
        st.Page(
            "ui/page_rollout.py",
            title=t("page_rollout"),
            icon=":material/event:",
            url_path="rollout",
        )
    )
current = st.navigation(pages)
style.apply()
sidebar.render()
current.run()
