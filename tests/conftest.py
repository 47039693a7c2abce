"""Shared test helpers."""

from __future__ import annotations

import os

# Plots in tests must never need a display.
os.environ.setdefault("MPLBACKEND", "Agg")
