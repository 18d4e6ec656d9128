"""Session state of the app: the current scenario (as a dict) and the last plan.

``st.session_state`` holds only:

* ``"scenario"``: the current scenario as plain JSON-ready data (``Scenario.to_dict()``);
* ``"plan"``: the last solved :class:`planning.pipeline.Plan` (or ``None``);
* widget values under stable keys (``sc_*`` scenario, ``rg_*`` region, ``ro_*`` rollout, ``lib_*``
  library, ``cmp_*`` compare, ``to_*`` trade-off, ``lang``).

Widgets of a page are initialised from the scenario dict when their key is missing (first visit,
or after a scenario was loaded), and the page writes the edited scenario back.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st

from planning import settings
from planning.errors import PlanningError
from planning.pipeline import Plan
from planning.scenario import Scenario
from planning.scenario_store import ScenarioStore
from ui.i18n import lang, t
from ui.messages import error_message, warning_message

SCENARIO = "scenario"
PLAN = "plan"
WIDGET_PREFIXES = ("sc_", "rg_", "to_", "ro_")
NOTICE = "_notice"


@st.cache_resource
def configure_logging() -> bool:
    """Configure the root logger once per server process (level from ``KANGLE_LOG_LEVEL``)."""
    logging.basicConfig(
        level=settings.log_level(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return True


def scenario_dict() -> dict[str, Any]:
    """The current scenario as a dict (the Putian demo on first use)."""
    if SCENARIO not in st.session_state:
        st.session_state[SCENARIO] = Scenario().to_dict()
    data: dict[str, Any] = st.session_state[SCENARIO]
    return data


def current_scenario() -> Scenario:
    """The current scenario, validated (errors shown in the page)."""
    with planning_errors():
        return Scenario.from_dict(dict(scenario_dict()))
    raise AssertionError  # pragma: no cover - planning_errors stops the script


def set_scenario(scenario: Scenario, *, reset_widgets: bool = False) -> None:
    """Make ``scenario`` current; ``reset_widgets`` re-reads every page's widgets from it."""
    st.session_state[SCENARIO] = scenario.to_dict()
    if reset_widgets:
        clear_widgets()


def clear_widgets() -> None:
    """Forget page widget values so they are initialised from the current scenario again."""
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(WIDGET_PREFIXES):
            del st.session_state[key]


def plan() -> Plan | None:
    """The last solved plan, if any."""
    value = st.session_state.get(PLAN)
    return value if isinstance(value, Plan) else None


def set_plan(value: Plan | None) -> None:
    """Keep ``value`` as the last plan."""
    st.session_state[PLAN] = value


def store() -> ScenarioStore:
    """The scenario library (``KANGLE_SCENARIO_DIR``), read fresh on every call."""
    return ScenarioStore()


def notify(kind: str, text: str, *, where: str = "sidebar") -> None:
    """Show ``text`` in the next run (``kind``: success, info, warning, error).

    ``where``: ``"sidebar"`` (library actions) or ``"page"`` (shown by the page itself).
    """
    st.session_state[f"{NOTICE}_{where}"] = (kind, text)


def show_notice(*, where: str = "sidebar") -> None:
    """Show and forget the message left for ``where`` (see :func:`notify`)."""
    notice = st.session_state.pop(f"{NOTICE}_{where}", None)
    if notice:
        kind, text = notice
        getattr(st, kind)(text)


def show_error(err: PlanningError, *, lead: str = "err_lead") -> None:
    """Show a planning error: a translated lead-in, then its message in the app's language."""
    st.error(f"**{t(lead)}**\n\n{error_message(err, lang=lang())}")


@contextmanager
def planning_errors(*, lead: str = "err_lead") -> Iterator[None]:
    """Turn a :class:`PlanningError` into an in-page message and stop the page.

    Anything else is a bug: its traceback is shown by Streamlit.
    """
    try:
        yield
    except PlanningError as err:
        show_error(err, lead=lead)
        st.stop()


@contextmanager
def shown_warnings() -> Iterator[None]:
    """Show the library's UserWarnings (e.g. facilities outside the region) as st.warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        yield
    show_warnings(w.message for w in caught if issubclass(w.category, UserWarning))


def show_warnings(caught: Iterable[Warning | str]) -> None:
    """Show library warnings in the app's language (each text once)."""
    seen: set[str] = set()
    for w in caught:
        text = warning_message(w, lang=lang())
        if text not in seen:
            seen.add(text)
            st.warning(f"**{t('warn_lead')}** {text}")


def init_widget(key: str, value: Any) -> None:
    """Set a widget's starting value unless the user already set it."""
    if key not in st.session_state:
        st.session_state[key] = value
