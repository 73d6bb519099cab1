"""The HTML report (`synth report`): one self-contained file with figures, the matrix and every theme's evidence."""

from .build import build_report, write_report

__all__ = ["build_report", "write_report"]
