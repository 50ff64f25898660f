"""Test-set metrics: the course's per-class accuracy, and metrics that see class imbalance
(scikit-learn implementations, imported only where they are computed)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def per_class_accuracy(
    y_train: np.ndarray, y_test: np.ndarray, pred: np.ndarray, class_names: Sequence[str]
) -> dict[str, list]:
    """Per class: training and test counts and test accuracy in % (NaN for a class absent
    from the test set)."""
    n = len(class_names)
    n_test = np.bincount(y_test, minlength=n)
    hits = np.bincount(y_test[pred == y_test], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(n_test > 0, hits / n_test * 100, np.nan)
    return {
        "class": list(class_names),
        "n_train": np.bincount(y_train, minlength=n).tolist(),
        "n_test": n_test.tolist(),
        "test_acc": accuracy.tolist(),
    }


def imbalance_metrics(
    y_true: np.ndarray, pred: np.ndarray, score: np.ndarray, n_classes: int
) -> dict[str, list]:
    """Per class precision, recall and F1, and the job-level overall and balanced accuracy
    (%) and ROC-AUC repeated per class. Undefined values (a class absent from the test set,
    or never predicted) are NaN."""
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    labels = list(range(n_classes))
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, pred, labels=labels, zero_division=np.nan
    )
    present = np.unique(y_true)
    balanced = balanced_accuracy_score(y_true, pred) * 100 if len(present) > 1 else np.nan
    # A diverged run (recorded, not failed) has NaN scores: its AUC is undefined, not an error.
    defined = len(present) == 2 and n_classes == 2 and np.isfinite(score).all()
    auc = roc_auc_score(y_true, score) if defined else np.nan
    return {
        "precision": np.asarray(precision, dtype=float).tolist(),
        "recall": np.asarray(recall, dtype=float).tolist(),
        "f1": np.asarray(f1, dtype=float).tolist(),
        "overall_acc": [accuracy_score(y_true, pred) * 100] * n_classes,
        "balanced_acc": [balanced] * n_classes,
        "roc_auc": [auc] * n_classes,
    }
