"""Experiment 4, data feature augmentation (qwerties)."""
