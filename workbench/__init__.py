"""IoT Workbench: a terminal workbench for the REST APIs of IoT clouds."""

from __future__ import annotations

__version__ = "0.1.0"
