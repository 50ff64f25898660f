"""The balance experiment's data: two Gaussian clouds per (separation, seed), and the training
subsamples of each (n, share) drawn from them or from the red-wine table (no torch)."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from moredata import tables
from moredata.errors import ConfigError
from moredata.seeds import Purpose, derive_seed

log = logging.getLogger(__name__)

GAUSSIAN_PREFIX = "gaussian-d"
WINE = "wine"
POOL, TEST = "pool", "test"  # the rows training sets are drawn from; the balanced test set
MAJORITY, MINORITY = 0, 1  # labels: the minority class is always label 1


def gaussian_source(separation: float) -> str:
    """The source axis value of the Gaussian clouds ``separation`` apart: ``gaussian-d2``."""
    return f"{GAUSSIAN_PREFIX}{float(separation):g}"


def separation_of(source: str) -> float | None:
    """The centre distance of a Gaussian source; None for wine."""
    if source.startswith(GAUSSIAN_PREFIX):
        return float(source.removeprefix(GAUSSIAN_PREFIX))
    return None


def source_key(source: str) -> int:
    """An integer that tells sources apart in derived seeds (wine 0, Gaussian d * 1e6)."""
    separation = separation_of(source)
    return 0 if separation is None else round(separation * 1_000_000)


def dataset_name(source: str, n: int) -> str:
    """The dataset axis value of a source at training size n: ``gaussian-d2-n1000``."""
    return f"{source}-n{int(n)}"


def dataset_parts(dataset: str) -> tuple[str, int]:
    """(source, n) of a dataset axis value."""
    source, _, n = dataset.rpartition("-n")
    return source, int(n)


def minority_count(n: int, share: float) -> int:
    """Minority examples in a training set of ``n`` at ``share`` (rounded half up)."""
    return math.floor(n * share + 0.5)


def gaussian_table(
    separation: float, pool_per_class: int, test_per_class: int, seed: int
) -> pd.DataFrame:
    """Two 2-D clouds of unit standard deviation per coordinate, centres ``separation`` apart
    on the first axis: the majority (label 0) at -d/2, the minority (label 1) at +d/2.
    ``pool_per_class`` points of each class to draw training sets from (a training set of n
    at share p takes the first round(p n) minority and n - round(p n) majority points, so
    the shares and sizes of one seed are nested: paired comparisons), and a balanced test
    set of ``test_per_class`` points per class. Columns x, y, label, split, rank (the
    point's position in its class and split)."""
    key = source_key(gaussian_source(separation))
    parts = []
    for stream, (split, per_class) in enumerate(((POOL, pool_per_class), (TEST, test_per_class))):
        for label, centre in ((MAJORITY, -separation / 2), (MINORITY, separation / 2)):
            # A stream per split and class: a larger pool keeps the points of a smaller one.
            rng = np.random.default_rng(derive_seed(seed, Purpose.DATA, key, stream, label))
            points = rng.standard_normal((per_class, 2))
            points[:, 0] += centre
            parts.append(
                pd.DataFrame(
                    {
                        "x": points[:, 0],
                        "y": points[:, 1],
                        "label": np.full(per_class, label, dtype=np.int64),
                        "split": split,
                        "rank": np.arange(per_class, dtype=np.int64),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


GAUSSIAN_KEYS = ("gaussian_test_per_class",)


def source_settings(settings: Mapping[str, Any], source: str) -> dict[str, Any]:
    """The data settings a dataset of ``source`` depends on (and records): a change to the
    other source's leaves its file alone."""
    if separation_of(source) is None:
        return {key: value for key, value in settings.items() if key not in GAUSSIAN_KEYS}
    return {key: settings[key] for key in GAUSSIAN_KEYS}


def make_dataset(
    point: Mapping[str, Any],
    settings: Mapping[str, Any],
    wine: pd.DataFrame | None,
    path: str | Path,
) -> None:
    """Write the data of one (dataset, seed): for a Gaussian source its pool of n points per
    class and its balanced test set; for wine every wine of the table (``wine``), each with
    its split and rank for this seed. Columns: the features, label (1 = minority), split,
    rank."""
    source, n = dataset_parts(str(point["dataset"]))
    seed = int(point["seed"])
    separation = separation_of(source)
    if separation is not None:
        data = gaussian_table(separation, n, int(settings["gaussian_test_per_class"]), seed)
    else:
        if wine is None:
            raise ValueError("the wine dataset needs the wine table")
        data = wine_rows(wine, settings, seed)
    tables.write_frame(
        data, path, tables.data_record(source_settings(settings, source), dict(point))
    )
    log.info(
        "%s: %d pool rows and %d test rows",
        point["dataset"],
        (data["split"] == POOL).sum(),
        (data["split"] == TEST).sum(),
    )


def wine_rows(wine: pd.DataFrame, settings: Mapping[str, Any], seed: int) -> pd.DataFrame:
    """The wine table's features with label (1 = ``wine_minority``), split and rank for one
    seed (see :func:`wine_table`)."""
    from moredata.wine.data import WINE_FEATURES, WINE_TARGET, binarise

    good = binarise(wine[WINE_TARGET].to_numpy(), int(settings["wine_threshold"]))
    labels = good if settings["wine_minority"] == "good" else 1 - good
    minority = str(settings["wine_minority"])
    majority = "bad" if minority == "good" else "good"
    counts = np.bincount(labels, minlength=2)
    check_wine_rows(
        {majority: int(counts[0]), minority: int(counts[1])},
        minority,
        int(settings["wine_test_per_class"]),
        [],
        [],
    )
    split = wine_table(labels, int(settings["wine_test_per_class"]), seed)
    rows = split["row"].to_numpy()
    data = wine[list(WINE_FEATURES)].iloc[rows].reset_index(drop=True)
    return data.assign(
        label=split["label"].to_numpy(),
        split=split["split"].to_numpy(),
        rank=split["rank"].to_numpy(),
    )


def training_rows(data: pd.DataFrame, n: int, share: float) -> np.ndarray:
    """Row positions of the training set of ``n`` at minority ``share`` in a table with
    label, split and rank (the first ranks of each class's pool)."""
    n_minority = minority_count(n, share)
    pool = (data["split"] == POOL).to_numpy()
    label, rank = data["label"].to_numpy(), data["rank"].to_numpy()
    take = pool & (
        ((label == MINORITY) & (rank < n_minority))
        | ((label == MAJORITY) & (rank < n - n_minority))
    )
    rows = np.flatnonzero(take)
    if len(rows) != n:
        raise ValueError(f"the pool holds {len(rows)} of the {n} training rows asked for")
    return rows


def wine_table(labels: np.ndarray, test_per_class: int, seed: int) -> pd.DataFrame:
    """The split of wine rows (``labels``: 1 = minority class) for one seed: a balanced test
    set of ``test_per_class`` wines per class, and every other wine in a random order per
    class (its rank), from which the training sets are drawn as in :func:`gaussian_table`.
    Columns row (position in the wine table), label, split, rank."""
    rng = np.random.default_rng(derive_seed(seed, Purpose.SPLIT, source_key(WINE)))
    parts = []
    for label in (MAJORITY, MINORITY):
        rows = rng.permutation(np.flatnonzero(labels == label))
        test, pool = rows[:test_per_class], rows[test_per_class:]
        for split, chosen in ((TEST, test), (POOL, pool)):
            parts.append(
                pd.DataFrame(
                    {
                        "row": chosen,
                        "label": np.full(len(chosen), label, dtype=np.int64),
                        "split": split,
                        "rank": np.arange(len(chosen), dtype=np.int64),
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def largest_size(share: float, minority_rows: int, majority_rows: int) -> int:
    """The largest training size whose round(share n) minority and n - round(share n)
    majority examples the rows can supply (0 if none)."""
    for n in range(minority_rows + majority_rows, 0, -1):
        k = minority_count(n, share)
        if 1 <= k <= minority_rows and n - k <= majority_rows:
            return n
    return 0


def check_wine_rows(
    class_rows: Mapping[str, int],
    minority: str,
    test_per_class: int,
    sizes: list[int],
    shares: list[float],
) -> None:
    """Refuse, with one line naming the keys and the largest size possible, a wine
    combination (n, share) that the rows of each class (``class_rows``: wines per class name,
    after the test set's ``test_per_class`` are held out of each) cannot supply."""
    majority = next(name for name in class_rows if name != minority)
    for name in (minority, majority):
        if class_rows[name] <= test_per_class:
            raise ConfigError(
                f"config key 'balance.wine_test_per_class': {test_per_class} wines per class "
                f"leave no {name!r} wine to train on (the table has {class_rows[name]}); "
                f"use at most {class_rows[name] - 1}"
            )
    minority_rows = class_rows[minority] - test_per_class
    majority_rows = class_rows[majority] - test_per_class
    for n in sizes:
        for share in shares:
            k = minority_count(n, share)
            if k <= minority_rows and n - k <= majority_rows:
                continue
            largest = largest_size(share, minority_rows, majority_rows)
            raise ConfigError(
                f"config keys 'balance.datasets' and 'balance.shares': {dataset_name(WINE, n)} "
                f"at share {share:g} needs {k} {minority!r} and {n - k} {majority!r} training "
                f"wines; after "
                f"balance.wine_test_per_class={test_per_class} per class the table has "
                f"{minority_rows} and {majority_rows}: the largest size possible at share "
                f"{share:g} is {largest}"
            )


def training_sequence(n: int, steps: int, batch_size: int, seed: int) -> np.ndarray:
    """Row positions (0..n-1) of ``steps`` batches of ``batch_size``: consecutive random
    passes over the n rows, cut after ``steps * batch_size`` rows, so every row is seen
    floor or ceil(steps * batch_size / n) times, as in training for a fixed number of steps
    that stops in the middle of a pass."""
    total = steps * batch_size
    rng = np.random.default_rng(seed)
    passes = -(-total // n)
    return np.concatenate([rng.permutation(n) for _ in range(passes)])[:total]
