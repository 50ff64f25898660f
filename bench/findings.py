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


def main() -> None:
    for directory in map(Path, sys.argv[1:]):
        results = directory / "results"
        print(directory)
        for name, report in [
            ("unbalanced", unbalanced),
            ("depth", depth),
            ("augment", augment),
            ("best", best),
        ]:
            if (results / name).is_dir():
                print(f" {name}")
                report(results)


if __name__ == "__main__":
    main()
