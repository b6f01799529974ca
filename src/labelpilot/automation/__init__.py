"""Algorithms that turn auto labels into guidance: candidates, stationarity, fitting, detection.

Pure code on the domain model (no database, no HTTP). It never reads a ground-truth layer; ground
truth is only used by tests and benchmarks to measure it.
"""
