"""The unbalanced-data experiment's aggregation (imbalance metrics) and figures."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pyarrow as pa

from moredata import tables

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from moredata.figures import (
    ACCURACY_RANGE,
    BALANCED_COLOUR,
    CLASS_COLOURS,
    CLASS_HATCHES,
    LOSS_RANGE,
    NEUTRAL,
    OVERALL_COLOUR,
    SPLIT_COLOURS,
    SPLIT_LINESTYLES,
    accuracy_axis,
    diverged_note,
    diverged_runs,
    epoch_axis,
    legend_below,
    loss_axis,
    nothing_to_show,
    plot_bar,
    plot_curve,
    save_figure,
    seeds_note,
)
from moredata.stats import summarise, write_summary

log = logging.getLogger(__name__)


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


UNBALANCED_CLASS_METRICS = ["test_acc", "precision", "recall", "f1"]


UNBALANCED_JOB_METRICS = ["overall_acc", "balanced_acc", "roc_auc", "final_train_loss"]


# What metrics.imbalance_metrics returns, per class.
IMBALANCE_METRICS = ["precision", "recall", "f1", "overall_acc", "balanced_acc", "roc_auc"]


def job_metrics(predictions: pd.DataFrame, keys: Sequence[str], n_classes: int) -> pd.DataFrame:
    """The imbalance metrics of every job, a row per (job keys..., class index); a diverged
    job (no predictions: ``pred`` null) gets NaN metrics."""
    rows = []
    for job, part in predictions.groupby(list(keys), sort=True):
        if part["pred"].isna().any():
            values = {name: [np.nan] * n_classes for name in IMBALANCE_METRICS}
        else:
            values = imbalance_metrics(
                part["y_true"].to_numpy(),
                part["pred"].to_numpy(dtype=np.int64),
                part["score"].to_numpy(),
                n_classes,
            )
        for index in range(n_classes):
            rows.append(
                {
                    **dict(zip(keys, job, strict=True)),
                    "class_index": index,
                    **{name: column[index] for name, column in values.items()},
                }
            )
    return pd.DataFrame(rows)


def aggregate_unbalanced(
    epochs_paths: Sequence[str | Path],
    classes_paths: Sequence[str | Path],
    predictions_paths: Sequence[str | Path],
    outputs: Mapping,
) -> None:
    epochs = tables.read_tables(epochs_paths, tables.UNBALANCED_EPOCHS).to_pandas()
    classes = tables.read_tables(classes_paths, tables.UNBALANCED_CLASSES).to_pandas()
    predictions = tables.read_tables(predictions_paths, tables.UNBALANCED_PREDICTIONS).to_pandas()
    keys = ["threshold", "remedy"]
    jobs = [*keys, "seed"]
    # Rows of one job come in class-index order (bad, good).
    classes["class_index"] = classes.groupby(jobs).cumcount()
    metrics = job_metrics(predictions, jobs, int(classes["class_index"].max()) + 1)
    classes = classes.merge(metrics, on=[*jobs, "class_index"], how="left", validate="1:1")
    classes_table = pa.Table.from_pandas(
        classes.drop(columns="class_index"), tables.UNBALANCED_CLASS_METRICS, preserve_index=False
    )
    classes = classes_table.to_pandas()
    per_class = summarise(classes, [*keys, "class"], UNBALANCED_CLASS_METRICS, classes["diverged"])
    per_job = classes.drop_duplicates(jobs).assign(**{"class": "all"})
    per_job_summary = summarise(
        per_job, [*keys, "class"], UNBALANCED_JOB_METRICS, per_job["diverged"]
    )
    summary = pd.concat([per_class, per_job_summary], ignore_index=True)
    write_summary(
        {"epochs": epochs, "classes": classes_table, "summary": summary},
        outputs,
    )
    log.info("aggregated %d wine runs; %d diverged", len(per_job), int(per_job["diverged"].sum()))


def _main_remedy(frame: pd.DataFrame) -> str:
    remedies = list(frame["remedy"].unique())
    return "none" if "none" in remedies else sorted(remedies)[0]


def threshold_title(threshold: int) -> str:
    """The binarisation as the config and tables state it (the course titles it
    ``threshold + 0.5``)."""
    return f"quality > {threshold}"


def class_tick(name: str, per_class: pd.DataFrame, contributed: int) -> str:
    """A class's bar label: its mean test and training counts over the seeds, and how
    many seeds had it in their test split when some had not."""
    rows = per_class[per_class["class"] == name]
    if rows.empty:  # every seed diverged
        return name
    approx = "=" if rows["seed"].nunique() == 1 else "≈"
    label = f"{name}\ntest N{approx}{rows['n_test'].mean():.0f}\ntrain N{approx}"
    label += f"{rows['n_train'].mean():.0f}"
    if contributed < len(rows):  # the class was missing from some seeds' test splits
        label += f"\nin test: {contributed}/{len(rows)} seeds"
    return label


def overall_tick(per_class: pd.DataFrame) -> str:
    """The overall bar's label: every class of the test split together."""
    per_seed = per_class.groupby("seed")["n_test"].sum()
    if per_seed.empty:
        return "overall"
    approx = "=" if len(per_seed) == 1 else "≈"
    return f"overall\ntest N{approx}{per_seed.mean():.0f}"


def unbalanced_figure(epochs: pd.DataFrame, classes: pd.DataFrame) -> Figure:
    """A row per threshold: loss vs epoch, train/test accuracy vs epoch, per-class test
    accuracy bars labelled with the test and training counts (and "k/N seeds" when a class
    was absent from some seeds' test splits)."""
    remedy = _main_remedy(classes)
    epochs = epochs[epochs["remedy"] == remedy]
    epochs = epochs[~diverged_runs(epochs, ["threshold", "seed"])]
    classes = classes[classes["remedy"] == remedy]
    thresholds = sorted(classes["threshold"].unique())
    n_seeds = classes["seed"].nunique()
    fig, axes = plt.subplots(
        len(thresholds),
        3,
        figsize=(15, 4.2 * len(thresholds)),
        squeeze=False,
        gridspec_kw={"width_ratios": [1, 1, 1.25]},
    )
    for row, threshold in zip(axes, thresholds, strict=True):
        per_class = classes[classes["threshold"] == threshold]
        n_diverged = per_class.loc[per_class["diverged"], "seed"].nunique()
        title = threshold_title(threshold)
        run = epochs[epochs["threshold"] == threshold]
        plot_curve(row[0], run, "train_loss", "epoch", LOSS_RANGE, color=SPLIT_COLOURS["train"])
        note = diverged_note(n_diverged, n_seeds)
        row[0].set(title=f"{title}: training loss" + (f"\n{note}" if note else ""), ylabel="Loss")
        loss_axis(row[0])
        for split in ("train", "test"):
            plot_curve(
                row[1],
                run,
                f"{split}_acc",
                "epoch",
                ACCURACY_RANGE,
                color=SPLIT_COLOURS[split],
                linestyle=SPLIT_LINESTYLES[split],
                label=split.capitalize(),
            )
        row[1].set(title=f"{title}: accuracy", ylabel="Accuracy (%)")
        accuracy_axis(row[1])
        for ax in row[:2]:
            epoch_axis(ax)
            if run.empty:
                nothing_to_show(ax, f"every seed diverged ({n_diverged} of {n_seeds})")
        kept = per_class[~per_class["diverged"]]
        ticks = []
        for x, (name, colour) in enumerate(CLASS_COLOURS.items()):
            contributed = plot_bar(
                row[2],
                x,
                kept.loc[kept["class"] == name, "test_acc"],
                0.6,
                colour,
                hatch=CLASS_HATCHES[name],
                show_value=True,
            )
            ticks.append(class_tick(name, kept, contributed))
        # The lecture's point: overall, the accuracy looks fine.
        overall = kept.drop_duplicates("seed")["overall_acc"]
        plot_bar(row[2], len(ticks), overall, 0.6, OVERALL_COLOUR, show_value=True)
        ticks.append(overall_tick(kept))
        row[2].set_xticks(range(len(ticks)), ticks)
        row[2].set(title=f"{title}: test accuracy per class and overall", ylabel="Accuracy (%)")
        accuracy_axis(row[2])
    legend_below(fig, *axes[0][1].get_legend_handles_labels())
    fig.suptitle(f"Unbalanced wine data, remedy: {remedy} ({seeds_note(n_seeds)})")
    fig.tight_layout()
    return fig


def plot_unbalanced(
    epochs_path: str | Path, classes_path: str | Path, out_paths: Sequence[str | Path]
) -> None:
    save_figure(
        unbalanced_figure(pd.read_parquet(epochs_path), pd.read_parquet(classes_path)), out_paths
    )


REMEDY_BARS = (
    ("balanced_acc", "balanced accuracy", BALANCED_COLOUR, None),
    ("bad", "bad class", CLASS_COLOURS["bad"], CLASS_HATCHES["bad"]),
    ("good", "good class", CLASS_COLOURS["good"], CLASS_HATCHES["good"]),
)


def remedy_tick(remedy: str, runs: pd.DataFrame) -> str:
    """A remedy's label, with how many of its seeds diverged when any did."""
    seeds = runs.drop_duplicates("seed")
    note = diverged_note(int(seeds["diverged"].sum()), len(seeds))
    return f"{remedy}\n{note}" if note else remedy


def remedies_figure(classes: pd.DataFrame) -> Figure:
    """Per threshold, balanced accuracy and per-class test accuracy of each remedy, as means
    over seeds (95 % CIs, or each seed's value with few seeds); diverged seeds left out and
    counted under their remedy. With the single remedy "none" (the default) the figure
    shows the untreated model's balanced and per-class accuracy, and says so."""
    thresholds = sorted(classes["threshold"].unique())
    remedies = list(dict.fromkeys(classes["remedy"]))
    n_seeds = classes["seed"].nunique()
    fig, axes = plt.subplots(
        1,
        len(thresholds),
        figsize=(max(5, 1.6 * (len(remedies) + 1)) * len(thresholds), 4.4),
        squeeze=False,
        sharey=True,
    )
    width = 0.8 / len(REMEDY_BARS)
    for ax, threshold in zip(axes[0], thresholds, strict=True):
        at = classes[classes["threshold"] == threshold]
        ticks = [remedy_tick(remedy, at[at["remedy"] == remedy]) for remedy in remedies]
        at = at[~at["diverged"]]
        for k, (key, label, colour, hatch) in enumerate(REMEDY_BARS):
            for i, remedy in enumerate(remedies):
                rows = at[at["remedy"] == remedy]
                values = (
                    rows.drop_duplicates("seed")["balanced_acc"]
                    if key == "balanced_acc"
                    else rows.loc[rows["class"] == key, "test_acc"]
                )
                x = i + (k - 1) * width
                contributed = plot_bar(
                    ax,
                    x,
                    values,
                    width,
                    colour,
                    label=label if i == 0 else None,
                    hatch=hatch,
                    show_value=True,
                    value_rotation=90,
                )
                if contributed < len(values):  # a class missing from some test splits
                    ax.text(
                        x,
                        2,
                        f"{contributed}/{len(values)} seeds",
                        ha="center",
                        rotation=90,
                        fontsize=7,
                    )
        ax.set_xticks(np.arange(len(remedies)), ticks)
        ax.set(title=threshold_title(threshold), xlabel="Remedy")
        accuracy_axis(ax)
        ax.axhline(
            50,
            color=NEUTRAL,
            linestyle=":",
            linewidth=1,
            label="50 %: balanced accuracy of a constant guess",
        )
    axes[0][0].set_ylabel("Test accuracy (%)")
    legend_below(fig, *axes[0][0].get_legend_handles_labels())
    seeds = seeds_note(n_seeds, "dots")
    if remedies == ["none"]:
        fig.suptitle(
            f"Balanced and per-class test accuracy without a remedy ({seeds})\n"
            "list remedies in unbalanced.remedies to compare them"
        )
    else:
        fig.suptitle(f"Imbalance remedies: balanced and per-class test accuracy ({seeds})")
    fig.tight_layout()
    return fig


def plot_remedies(classes_path: str | Path, out_paths: Sequence[str | Path]) -> None:
    save_figure(remedies_figure(pd.read_parquet(classes_path)), out_paths)
