"""Kangle Planner (康乐家园选址规划): siting community rehabilitation services on open data.

The library is a pipeline, one module per step::

    data -> demand -> travel -> models -> results -> export / maps

:func:`planning.pipeline.run` runs the steps in order from a :class:`~planning.scenario.Scenario`.
"""

from __future__ import annotations

__version__ = "0.1.0"
