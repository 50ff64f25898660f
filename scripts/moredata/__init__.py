"""Reproducible experiments for the "More on data" lectures.

Each experiment is a recipe (:mod:`moredata.recipe`) over one shared core (:mod:`moredata.jobs`,
the trainer in :mod:`moredata.training`, tables, checkpoints); data preparation, statistics
and figures sit beside them. The package is plain Python: only the config validation
(:mod:`moredata.config`) calls Snakemake's schema validator. The rule scripts in ``scripts/``
are thin wrappers that call one function each.
"""
