"""The numbers docs/findings.md quotes, from the aggregated tables of finished runs.

Prints, for each folder given (a workflow directory after a run), first which run it is (its
Snakemake command line and config files, and each experiment's seeds and grid as its tables
hold them), then per experiment the numbers the findings quote:
  * unbalanced data: per-class test accuracy, balanced and overall accuracy per (threshold,
    remedy), and the class counts of training and test;
  * depth: test accuracy averaged over n and the final training loss per layer count, and the
    accuracy at the smallest n;
  * feature augmentation: each variant's final test accuracy, their paired difference, the
    independent and paired t-tests;
  * save the best: dev accuracy of the best epoch, the reloaded model on test, their gap with
    its paired t-test, the chosen epoch, and the final epoch's model on test;
  * oversampling and noise: per N, the paired statistics (devset gain, leak, steps, data, test
    gain), each condition's test accuracy and its devset-minus-test leak, and the noise
    lecture's table.
With several seeds every number is the mean over seeds with its t-based 95 % CI.

Usage: python bench/findings.py DIR [DIR ...]
e.g.   snakemake --cores 2 --directory runs/default && python bench/findings.py runs/default
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from moredata.stats import seed_statistics

sys.path.insert(0, str(Path(__file__).resolve().parent))
from runtimes import run_header


def show(label: str, values: pd.Series, unit: str = " %", digits: int = 1) -> str:
    s = seed_statistics(values.astype(float))
    text = f"{label}: {s['mean']:.{digits}f}{unit}"
    if s["n_seeds"] > 1:
        text += f" [{s['ci95_low']:.{digits}f}, {s['ci95_high']:.{digits}f}]"
    return text


def values(column: pd.Series) -> str:
    """The distinct values of a grid column, e.g. ``0..9`` or ``500, 1000, 2000``."""
    unique = sorted(column.unique().tolist())
    consecutive = pd.api.types.is_integer_dtype(column) and unique == list(
        range(unique[0], unique[-1] + 1)
    )
    if len(unique) > 2 and consecutive:
        return f"{unique[0]}..{unique[-1]}"
    return ", ".join(str(v) for v in unique)


def grid(frame: pd.DataFrame, axes: list[str]) -> str:
    """What a run's table covers: its seeds and the values of its other grid axes."""
    return "; ".join(f"{axis} {values(frame[axis])}" for axis in [*axes, "seed"])


def unbalanced(results: Path) -> None:
    classes = pd.read_parquet(results / "unbalanced" / "classes.parquet")
    print(f"  ({grid(classes, ['threshold', 'remedy'])})")
    for (threshold, remedy), part in classes.groupby(["threshold", "remedy"]):
        per_class = [
            show(name, part.loc[part["class"] == name, "test_acc"]) for name in ("bad", "good")
        ]
        jobs = part.groupby("seed")
        balanced = show("balanced", jobs["balanced_acc"].first())
        overall = show("overall", jobs["overall_acc"].first())
        auc = show("ROC-AUC", jobs["roc_auc"].first(), "", 3)
        print(
            f"  threshold {threshold} {remedy}: {', '.join(per_class)}, {balanced}, {overall}, "
            f"{auc}"
        )
        counts = part.groupby("class")[["n_train", "n_test"]].mean()
        print(
            "    classes (mean over seeds): "
            + "; ".join(
                f"{name} train {row.n_train:.0f}, test {row.n_test:.0f}"
                for name, row in counts.iterrows()
            )
        )


# A depth run whose final training loss is this close to ln(classes) learned nothing.
CHANCE_BAND = 0.005


def depth(results: Path) -> None:
    runs = pd.read_parquet(results / "depth" / "results.parquet")
    print(f"  ({grid(runs, ['layers', 'n'])})")
    # The mean over n of each seed, then its statistics over the seeds.
    per_seed = runs.groupby(["layers", "params", "seed"])[["final_test_acc", "final_train_loss"]]
    smallest = runs["n"].min()
    for (layers, params), part in per_seed.mean().groupby(["layers", "params"]):
        accuracy = show("test acc (mean over n)", part["final_test_acc"])
        loss = show("train loss", part["final_train_loss"], unit="", digits=3)
        at_smallest = runs.loc[(runs["layers"] == layers) & (runs["n"] == smallest)]
        first = show(f"at n = {smallest}", at_smallest["final_test_acc"])
        print(f"  L={layers} ({params} params): {accuracy}, {loss}, {first}")
    # Runs at chance: the final training loss within CHANCE_BAND of ln(classes); those that
    # left that plateau, the epoch they left it and the accuracy they reached.
    epochs = pd.read_parquet(results / "depth" / "epochs.parquet")
    classes = int(runs["classes"].iloc[0])
    chance = np.log(classes)
    for layers, part in runs.groupby("layers"):
        stuck = (part["final_train_loss"] - chance).abs() < CHANCE_BAND
        band = f"loss ln {classes} +- {CHANCE_BAND}"
        text = f"  L={layers}: {stuck.sum()} of {len(part)} runs at chance ({band})"
        left = part.loc[part["final_train_loss"] < chance - CHANCE_BAND]
        if len(left) > 0 and stuck.any():
            curves = epochs.merge(left[["layers", "n", "seed"]], on=["layers", "n", "seed"])
            below = curves.loc[curves["train_loss"] < chance - CHANCE_BAND]
            first = below.groupby(["n", "seed"])["epoch"].min()
            text += (
                f"; {len(left)} left the plateau, at epochs {first.min()}-{first.max()}, and "
                f"reached {left['final_test_acc'].min():.0f}-{left['final_test_acc'].max():.0f} %"
            )
        print(text)


def augment(results: Path) -> None:
    runs = pd.read_parquet(results / "augment" / "results.parquet")
    print(f"  ({grid(runs, ['features'])})")
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
    print(f"  ({grid(runs, [])})")
    print(f"  {show('dev (best epoch)', runs['best_dev_acc'])}")
    print(f"  {show('test (reloaded)', runs['test_acc'])}")
    gap = show("gap dev - test", runs["best_dev_acc"] - runs["test_acc"], " points", 2)
    if len(runs) > 1:
        t, p = stats.ttest_rel(runs["best_dev_acc"], runs["test_acc"], nan_policy="omit")
        gap += f" (paired t = {t:.2f}, p = {p:.2f})"
    print(f"  {gap}")
    print(f"  {show('best epoch', runs['best_epoch'], '', 0)}")
    print(f"  {show('final epoch on test', runs['final_test_acc'])}")


# The paired statistics the findings quote, in the order of their tables.
MNIST_STATISTICS = ["dev_gain", "gain_from_leak", "gain_from_steps", "gain_from_data", "test_gain"]


def mnist(results: Path, lecture: str) -> None:
    runs = pd.read_parquet(results / lecture / "results.parquet")
    print(f"  ({grid(runs, ['n', 'condition'])})")
    statistics = pd.read_parquet(results / lecture / "statistics.parquet")
    for n, part in runs.groupby("n"):
        print(f"  N = {n}")
        for condition, rows in part.groupby("condition", sort=False):
            test = show("test", rows["test_acc"])
            leak = rows["final_dev_acc"] - rows["test_acc"]
            leak = show("leak (final devset - test)", leak, " points")
            print(f"    {condition}: {test}, {leak}", end="")
            chosen = statistics[(statistics["n"] == n) & (statistics["condition"] == condition)]
            wanted = chosen.set_index("statistic").reindex(MNIST_STATISTICS).dropna(how="all")
            for name, row in wanted.iterrows():
                text = f"{name} {row['mean']:+.1f}"
                if row["n_seeds"] > 1:
                    text += f" [{row['ci95_low']:.1f}, {row['ci95_high']:.1f}]"
                print(f"; {text}", end="")
            print()
    if lecture == "noise" and (results / "noise" / "table.parquet").is_file():
        table = pd.read_parquet(results / "noise" / "table.parquet")
        for row in table.itertuples():
            print(
                f"  table N = {row.n} {row.condition} ({row.n_seeds} seeds): train "
                f"{row.train_acc:.1f}, devset {row.dev_acc:.1f}, test {row.test_acc:.1f}"
            )


EXPERIMENTS: list[tuple[str, Callable[[Path], None]]] = [
    ("unbalanced", unbalanced),
    ("depth", depth),
    ("augment", augment),
    ("best", best),
    ("oversampling", lambda results: mnist(results, "oversampling")),
    ("noise", lambda results: mnist(results, "noise")),
]


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


EXPERIMENTS.append(("balance", balance))


def main() -> None:
    for directory in map(Path, sys.argv[1:]):
        results = directory / "results"
        print(run_header(directory))
        for name, report in EXPERIMENTS:
            if (results / name).is_dir() and any((results / name).glob("*.parquet")):
                print(f" {name}")
                report(results)


if __name__ == "__main__":
    main()
