"""Rollout page: registered by app.py only when ``ui/rollout_page.py`` exists."""

from __future__ import annotations

import importlib

importlib.import_module("ui.rollout_page").render()
