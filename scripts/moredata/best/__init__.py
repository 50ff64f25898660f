"""Experiment 5, saving the best-performing model (qwerties)."""
