"""The README's "What it finds" numbers, from the aggregated tables of finished runs.

Prints, for each folder given (a workflow directory after a run), what the README quotes:
per-class test accuracy of the unbalanced-data experiment, the depth experiment's test
accuracy averaged over n, and, where present, feature augmentation and save-the-best. With
several seeds every number is the mean over seeds with its t-based 95 % CI.

Usage: python bench/findings.py DIR [DIR ...]
e.g.   python bench/grid.py --modes seeds --keep runs && python bench/findings.py runs/*
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from moredata.stats import seed_statistics


def show(label: str, values: pd.Series, unit: str = " %", digits: int = 1) -> str:
    s = seed_statistics(values.astype(float))
    text = f"{label}: {s['mean']:.{digits}f}{unit}"
    if s["n_seeds"] > 1:
        text += f" [{s['ci95_low']:.{digits}f}, {s['ci95_high']:.{digits}f}]"
    return text


def unbalanced(results: Path) -> None:
    classes = pd.read_parquet(results / "unbalanced" / "classes.parquet")
    for (threshold, remedy), part in classes.groupby(["threshold", "remedy"]):
        per_class = [
            show(name, part.loc[part["class"] == name, "test_acc"]) for name in ("bad", "good")
        ]
        balanced = show("balanced", part.groupby("seed")["balanced_acc"].first())
        print(f"  threshold {threshold} {remedy}: {', '.join(per_class)}, {balanced}")


def depth(results: Path) -> None:
    runs = pd.read_parquet(results / "depth" / "results.parquet")
    # The mean over n of each seed, then its statistics over the seeds.
    per_seed = runs.groupby(["layers", "params", "seed"])[["final_test_acc", "final_train_loss"]]
    for (layers, params), part in per_seed.mean().groupby(["layers", "params"]):
        accuracy = show("test acc (mean over n)", part["final_test_acc"])
        loss = show("train loss", part["final_train_loss"], unit="", digits=3)
        print(f"  L={layers} ({params} params): {accuracy}, {loss}")


def augment(results: Path) -> None:
    runs = pd.read_parquet(results / "augment" / "results.parquet")
    wide = runs.pivot(index="seed", columns="features", values="final_test_acc")
    for features in wide.columns:
        print(f"  {show(features, wide[features])}")
    print(f"  {show('difference xy_distance - xy', wide['xy_distance'] - wide['xy'], ' points')}")
    ttest = pd.read_parquet(results / "augment" / "ttest.parquet").iloc[0]
    print(
        f"  ttest_ind t={ttest['t_independent']:.2f} p={ttest['p_independent']:.2f}; "
        f"ttest_rel t={ttest['t_paired']:.2f} p={ttest['p_paired']:.2f}"
    )


def best(results: Path) -> None:
    runs = pd.read_parquet(results / "best" / "results.parquet")
    print(f"  {show('dev (best epoch)', runs['best_dev_acc'])}")
    print(f"  {show('test (reloaded)', runs['test_acc'])}")
    print(f"  {show('gap dev - test', runs['best_dev_acc'] - runs['test_acc'], ' points', 2)}")
    print(f"  {show('best epoch', runs['best_epoch'], '', 0)}")


def balance(results: Path) -> None:
    """The lecture's three claims about imbalance, answered from the balance experiment's
    aggregates: 55/45 against 50/50, how the loss at a small share changes with n, and what
    the overall accuracy hides of the minority's."""
    folder = results / "balance"
    summary = pd.read_parquet(folder / "summary.parquet")
    differences = pd.read_parquet(folder / "differences.parquet")
    enough = pd.read_parquet(folder / "enough.parquet")

    def stat(frame: pd.DataFrame, unit: str = " %") -> str:
        row = frame.iloc[0]
        text = f"{row['mean']:+.1f}{unit}" if unit == " points" else f"{row['mean']:.1f}{unit}"
        if row["n_seeds"] > 1:
            text += f" [{row['ci95_low']:.1f}, {row['ci95_high']:.1f}]"
        return text

    def pick(frame: pd.DataFrame, **values: object) -> pd.DataFrame:
        for key, value in values.items():
            frame = frame.loc[frame[key] == value]
        return frame

    tolerance = float(enough["tolerance"].iloc[0])
    print(
        f"  1. 55/45 'generally isn't a problem' (paired difference to 50/50; tolerance "
        f"{tolerance:g} point{'' if tolerance == 1 else 's'}):"
    )
    for (source, n), part in differences.groupby(["source", "n"], sort=False):
        step = part.loc[part["share"] == 0.45]
        if step.empty:
            print(f"    {source} n={n}: share 0.45 not in the grid")
            continue
        balanced = pick(step, metric="balanced_acc")
        minority = pick(step, metric="minority_acc")
        within = balanced["ci95_low"].iloc[0] >= -tolerance
        print(
            f"    {source} n={n}: balanced {stat(balanced, ' points')}, minority "
            f"{stat(minority, ' points')}: {'within' if within else 'not shown within'} "
            "the tolerance"
        )
    print(
        "  2. 'less important with lots of data' (smallest share within the tolerance of "
        "50/50, as trained -> prior-corrected; minority at the smallest share, network - "
        "Bayes):"
    )
    smallest = summary["share"].min()
    for source, part in enough.groupby("source", sort=False):
        for n, rows in part.groupby("n"):
            trained = pick(rows, metric="balanced_acc")["enough_share"].iloc[0]
            corrected = pick(rows, metric="corrected_balanced_acc")["enough_share"].iloc[0]
            at = pick(summary, source=source, n=n, share=smallest)
            text = (
                f"    {source} n={n}: enough {trained:g} -> {corrected:g}; at share "
                f"{smallest:g} minority {stat(pick(at, metric='minority_acc'))}, "
                f"prior-corrected {stat(pick(at, metric='corrected_minority_acc'))}"
            )
            gap = pick(at, metric="gap_minority_acc")
            if gap["n_seeds"].iloc[0]:
                text += f", gap to Bayes {stat(gap, ' points')}"
            print(text)
    print(
        f"  3. per-category accuracy (share {smallest:g}: overall on a test set with the "
        "training prior against the minority's):"
    )
    for (source, n), at in pick(summary, share=smallest).groupby(["source", "n"], sort=False):
        print(
            f"    {source} n={n}: overall {stat(pick(at, metric='prior_acc'))}, minority "
            f"{stat(pick(at, metric='minority_acc'))}, balanced "
            f"{stat(pick(at, metric='balanced_acc'))}"
        )


def main() -> None:
    for directory in map(Path, sys.argv[1:]):
        results = directory / "results"
        print(directory)
        for name, report in [
            ("unbalanced", unbalanced),
            ("depth", depth),
            ("augment", augment),
            ("best", best),
            ("balance", balance),
        ]:
            if (results / name).is_dir():
                print(f" {name}")
                report(results)


if __name__ == "__main__":
    main()
