"""Test-set metrics: the course's per-class accuracy, and metrics that see class imbalance
(scikit-learn implementations, imported only where they are computed)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def per_class_accuracy(
    y_train: np.ndarray, y_test: np.ndarray, pred: np.ndarray, class_names: Sequence[str]
) -> dict[str, list]:
    """Per class: training and test counts and test accuracy in % (None, a null in Parquet,
    for a class absent from the test set: its accuracy is undefined, not 0)."""
    n = len(class_names)
    n_test = np.bincount(y_test, minlength=n)
    hits = np.bincount(y_test[pred == y_test], minlength=n)
    return {
        "class": list(class_names),
        "n_train": np.bincount(y_train, minlength=n).tolist(),
        "n_test": n_test.tolist(),
        "test_acc": [float(h / t * 100) if t else None for h, t in zip(hits, n_test, strict=True)],
    }


def imbalance_metrics(
    y_true: np.ndarray, pred: np.ndarray, score: np.ndarray, n_classes: int
) -> dict[str, list]:
    """Per class precision, recall and F1, and the job-level overall and balanced accuracy
    (%) and ROC-AUC repeated per class. What is undefined is NaN (null in Parquet), never a
    made-up 0: every per-class metric of a class absent from the test set, the precision of
    a class never predicted (zero_division=nan), balanced accuracy and ROC-AUC with one class
    present, and ROC-AUC of non-finite scores. F1 is 2TP / (2TP + FP + FN): 0 for a class
    present but never predicted."""
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    labels = list(range(n_classes))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, pred, labels=labels, zero_division=np.nan
    )
    # Missing by design for a class with no test sample (scikit-learn gives 0 where predicted).
    absent = np.asarray(support) == 0
    precision, recall, f1 = (
        np.where(absent, np.nan, np.asarray(m, dtype=float)) for m in (precision, recall, f1)
    )
    present = np.unique(y_true)
    balanced = balanced_accuracy_score(y_true, pred) * 100 if len(present) > 1 else np.nan
    # A diverged run (recorded, not failed) has NaN scores: its AUC is undefined, not an error.
    defined = len(present) == 2 and n_classes == 2 and np.isfinite(score).all()
    auc = roc_auc_score(y_true, score) if defined else np.nan
    return {
        "precision": precision.tolist(),
        "recall": recall.tolist(),
        "f1": f1.tolist(),
        "overall_acc": [accuracy_score(y_true, pred) * 100] * n_classes,
        "balanced_acc": [balanced] * n_classes,
        "roc_auc": [auc] * n_classes,
    }
