"""Experiment 2, data size vs network depth (qwerties)."""
