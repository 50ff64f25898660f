"""Experiment 3, unbalanced data (red wine quality binarised at thresholds)."""
