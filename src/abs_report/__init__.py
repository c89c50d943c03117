"""abs-report: territory social-needs reports (ABS) from CAF family-benefit data."""

__version__ = "0.1.0"
