"""Test-set metrics that see class imbalance (scikit-learn implementations)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def class_metrics(
    y_train: np.ndarray,
    y_test: np.ndarray,
    pred: np.ndarray,
    score: np.ndarray,
    class_names: Sequence[str],
) -> dict[str, list]:
    """Per-class columns (class, n_train, n_test, test_acc = recall in %, precision, recall,
    f1) and job-level columns repeated on each row (overall_acc and balanced_acc in %,
    roc_auc). Undefined values (a class absent from the test set) are NaN."""
    # Imported here: scikit-learn costs ~0.5 s of start-up, paid only by the jobs that need it.
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    labels = list(range(len(class_names)))
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_test, pred, labels=labels, zero_division=np.nan
    )
    present = np.unique(y_test)
    balanced = balanced_accuracy_score(y_test, pred) * 100 if len(present) > 1 else np.nan
    # A diverged run (recorded, not failed) has NaN scores: its AUC is undefined, not an error.
    defined = len(present) == 2 and len(labels) == 2 and np.isfinite(score).all()
    auc = roc_auc_score(y_test, score) if defined else np.nan
    n = len(labels)
    return {
        "class": list(class_names),
        "n_train": np.bincount(y_train, minlength=n).tolist(),
        "n_test": np.bincount(y_test, minlength=n).tolist(),
        "test_acc": (np.asarray(recall, dtype=float) * 100).tolist(),
        "precision": np.asarray(precision, dtype=float).tolist(),
        "recall": np.asarray(recall, dtype=float).tolist(),
        "f1": np.asarray(f1, dtype=float).tolist(),
        "overall_acc": [accuracy_score(y_test, pred) * 100] * n,
        "balanced_acc": [balanced] * n,
        "roc_auc": [auc] * n,
    }
