"""Kangle Planner (康乐家园选址规划): siting community rehabilitation services on open data.

The library is a pipeline, a package per step::

    inputs -> travel -> models -> results -> report

* :mod:`planning.inputs` — region, census, demand cells, candidate and existing sites;
* :mod:`planning.travel` — travel minutes (estimate or road network), a sparse id-keyed table;
* :mod:`planning.models` — the siting models, proven optimal or with their gap;
* :mod:`planning.results` — tidy tables, KPIs and the privacy rule applied to them;
* :mod:`planning.report` — maps, printable maps and the files of the meeting kit.

:func:`planning.pipeline.run` runs the steps in order from a
:class:`~planning.scenario.Scenario`; :mod:`planning.cli` is the command line. Shared by all:
:mod:`planning.errors`, :mod:`planning.settings`, :mod:`planning.defaults` and
:mod:`planning.suppression` (the small-count rule).
"""

from __future__ import annotations

__version__ = "0.1.0"
