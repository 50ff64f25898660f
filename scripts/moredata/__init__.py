"""Reproducible experiments for the "More on data" lectures.

The package is plain Python (no Snakemake imports): data preparation, models, the shared
training loop, metrics, Parquet I/O and figures. The rule scripts in ``scripts/`` are thin
wrappers that call one function each.
"""
