"""Integer-programming siting models (see each module's docstring for its formulation)."""

from __future__ import annotations

from planning.models.base import ModelInput, Solution

__all__ = ["ModelInput", "Solution"]
