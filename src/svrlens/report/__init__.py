"""The self-contained HTML report, built from result files only (``results.json``, run directories)."""

from .html import REPORT, build_report

__all__ = ["REPORT", "build_report"]
