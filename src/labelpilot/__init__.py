"""LabelPilot: labeling autonomous-driving sensor sequences for the most correct shapes per Euro."""

__version__ = "0.1.0"
