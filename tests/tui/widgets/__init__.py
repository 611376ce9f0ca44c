"""Tests (mirrors the workbench package)."""
