"""Tracking: runs, metrics, artifacts, datasets, reproduction and run comparison."""
