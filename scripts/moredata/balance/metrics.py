"""What one trained network scores on a balanced test set, and the exact Bayes-optimal
values for two unit Gaussian clouds (no torch)."""

from __future__ import annotations

import math

import numpy as np

from moredata.balance.data import MAJORITY, MINORITY

# Per-job metrics, in % except roc_auc (0..1). "prior" is the accuracy expected on a test set
# with the training prior; "corrected" moves the decision threshold by the log prior ratio.
NETWORK_METRICS = (
    "minority_acc",
    "majority_acc",
    "balanced_acc",
    "roc_auc",
    "prior_acc",
    "corrected_minority_acc",
    "corrected_majority_acc",
    "corrected_balanced_acc",
)
BAYES_METRICS = tuple(f"bayes_{metric}" for metric in NETWORK_METRICS)


def prior_shift(share: float) -> float:
    """ln((1 - p) / p): added to the minority's logit, it removes the training prior."""
    return math.log((1 - share) / share)


def network_metrics(
    logits: np.ndarray, labels: np.ndarray, share: float
) -> dict[str, float | None]:
    """The metrics of minority logits on a test set (labels 1 = minority) for a network
    trained at minority ``share``. The accuracy on a test set with the training prior is
    computed exactly from the per-class accuracies, share * minority + (1 - share) *
    majority (the expected accuracy of such a test set; no resampling). A class missing
    from the test set leaves its accuracy and everything built on it undefined (None)."""
    from sklearn.metrics import roc_auc_score

    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels)
    minority, majority = labels == MINORITY, labels == MAJORITY
    values: dict[str, float | None] = {}
    for prefix, shift in (("", 0.0), ("corrected_", prior_shift(share))):
        predicted = logits + shift > 0
        hits = {
            "minority": predicted[minority].mean() * 100 if minority.any() else None,
            "majority": (~predicted[majority]).mean() * 100 if majority.any() else None,
        }
        for name, value in hits.items():
            values[f"{prefix}{name}_acc"] = None if value is None else float(value)
        both = [v for v in hits.values() if v is not None]
        values[f"{prefix}balanced_acc"] = float(np.mean(both)) if len(both) == 2 else None
    low, high = values["minority_acc"], values["majority_acc"]
    values["prior_acc"] = None if low is None or high is None else share * low + (1 - share) * high
    both_classes = minority.any() and majority.any()
    values["roc_auc"] = float(roc_auc_score(minority, logits)) if both_classes else None
    return {metric: values[metric] for metric in NETWORK_METRICS}


def bayes_metrics(separation: float, share: float) -> dict[str, float]:
    """The same metrics for the Bayes-optimal classifier of two unit-variance clouds
    ``separation`` apart with minority prior ``share``: it calls a point minority when the
    log-likelihood ratio d * x exceeds ln((1 - p) / p), so the minority's accuracy is
    Phi(d/2 - ln((1-p)/p)/d) and the majority's Phi(d/2 + ln((1-p)/p)/d); with the prior
    corrected, Phi(d/2) for both; its ROC-AUC is Phi(d / sqrt 2)."""
    from scipy.stats import norm

    if separation <= 0 or not 0 < share < 1:
        raise ValueError(f"separation {separation} and share {share} out of range")
    shift = prior_shift(share) / separation
    minority = float(norm.cdf(separation / 2 - shift) * 100)
    majority = float(norm.cdf(separation / 2 + shift) * 100)
    corrected = float(norm.cdf(separation / 2) * 100)
    values = {
        "minority_acc": minority,
        "majority_acc": majority,
        "balanced_acc": (minority + majority) / 2,
        "roc_auc": float(norm.cdf(separation / math.sqrt(2))),
        "prior_acc": share * minority + (1 - share) * majority,
        "corrected_minority_acc": corrected,
        "corrected_majority_acc": corrected,
        "corrected_balanced_acc": corrected,
    }
    return {f"bayes_{metric}": values[metric] for metric in NETWORK_METRICS}
