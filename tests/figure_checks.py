"""What every figure test reads back from a matplotlib Figure: where its data lies against
its axes' limits, its legend entries and keys, the seed counts its titles state, and the
colours it draws; and small MNIST results tables in the pipeline's schema."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
from matplotlib.collections import Collection, LineCollection, PathCollection, PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from moredata import tables
from moredata.mnist.lecture import MNIST_RESULT


def conform(rows: list[dict], schema) -> pd.DataFrame:
    """``rows`` as the pipeline's table ``schema`` reads back: every column, its type."""
    return tables.table(pd.DataFrame(rows).to_dict("list"), schema).to_pandas()


def _data_like(transform, ax) -> bool:
    """Whether ``transform`` places points by ``ax``'s data coordinates, possibly shifted
    by a fixed distance on the page (a dodge): lines across the axes (axhline) and texts in
    axes fractions are not data points."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    corners = np.array([[x0, y0], [x1, y1], [(x0 + x1) / 2, y0]])
    delta = transform.transform(corners) - ax.transData.transform(corners)
    return bool(np.allclose(delta, delta[0], atol=1e-6))


def _outside(ax, transform, xy) -> bool:
    """Whether any finite point of ``xy`` (n x 2, in ``transform``'s coordinates) lands
    outside ``ax``'s frame on the page."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    xy = xy[np.isfinite(xy).all(axis=1)]
    if not len(xy):
        return False
    shown = transform.transform(xy)
    box = ax.bbox
    tolerance = 0.5  # pixels: a point drawn on the frame is in
    return bool(
        (shown[:, 0] < box.x0 - tolerance).any()
        or (shown[:, 0] > box.x1 + tolerance).any()
        or (shown[:, 1] < box.y0 - tolerance).any()
        or (shown[:, 1] > box.y1 + tolerance).any()
    )


def points_outside(fig: Figure) -> list[str]:
    """Every data point (line vertices, scatter dots, bands, error bars, bar corners) that
    lands outside its axes' frame on the page, by the axes' title: [] when all are in."""
    fig.canvas.draw()  # limits settle (autoscale) on drawing
    outside = []
    for ax in fig.axes:
        where = ax.get_title() or ax.get_ylabel() or "axes"
        for line in ax.get_lines():
            transform = line.get_transform()
            if line.get_visible() and _data_like(transform, ax):
                xy = np.column_stack([line.get_xdata(), line.get_ydata()])
                if _outside(ax, transform, xy):
                    outside.append(f"{where}: line {line.get_label()!r}")
        for collection in ax.collections:
            if not collection.get_visible():
                continue
            if isinstance(collection, PathCollection):
                transform = collection.get_offset_transform()
                xy = collection.get_offsets()
            elif isinstance(collection, (PolyCollection, LineCollection)):
                transform = collection.get_transform()
                paths = collection.get_paths()
                xy = np.concatenate([p.vertices for p in paths]) if paths else []
            else:
                continue
            if _data_like(transform, ax) and _outside(ax, transform, xy):
                outside.append(f"{where}: {type(collection).__name__}")
        for patch in ax.patches:
            transform = patch.get_transform()
            if isinstance(patch, Rectangle) and _data_like(transform, ax):
                x, y, w, h = patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height()
                corners = [[x, y], [x + w, y + h]]
                if _outside(ax, ax.transData, corners):
                    outside.append(f"{where}: bar at x={x:.3g}")
    return outside


def legend_entries(fig: Figure) -> list[tuple[str, object]]:
    """(label, handle) of the figure's legend, blank padding left out; [] without one."""
    entries = []
    for legend in fig.legends:
        for text, handle in zip(legend.get_texts(), legend.legend_handles, strict=True):
            if text.get_text():
                entries.append((text.get_text(), handle))
    return entries


def legend_labels(fig: Figure) -> list[str]:
    return [label for label, _ in legend_entries(fig)]


def handle_colour(handle) -> str:
    """The colour a legend key shows: a patch's face, a line's (or its marker's) colour, a
    scatter's first face colour."""
    if isinstance(handle, Rectangle):
        return to_hex(handle.get_facecolor())
    if isinstance(handle, Line2D):
        if handle.get_linestyle() in ("None", "none", "") and handle.get_marker() not in (
            None,
            "None",
            "none",
        ):
            face = handle.get_markerfacecolor()
            if isinstance(face, str) and face == "none":
                return to_hex(handle.get_markeredgecolor())
            return to_hex(face)
        return to_hex(handle.get_color())
    if isinstance(handle, Collection):
        faces = handle.get_facecolors()
        colours = faces if len(faces) else handle.get_edgecolors()
        return to_hex(colours[0])
    raise TypeError(f"no colour read for a {type(handle).__name__} legend key")


def handle_key(handle) -> tuple:
    """What tells a legend key from another: colour, line style, marker, hatch."""
    style = handle.get_linestyle() if hasattr(handle, "get_linestyle") else None
    marker = handle.get_marker() if isinstance(handle, Line2D) else None
    hatch = handle.get_hatch() if hasattr(handle, "get_hatch") else None
    if isinstance(handle, PathCollection):
        paths = handle.get_paths()
        marker = tuple(np.round(paths[0].vertices, 3).ravel()) if paths else None
        style = None
    return handle_colour(handle), str(style), str(marker), hatch


def assert_legend_keys_distinct(fig: Figure) -> None:
    """No two legend entries look the same."""
    entries = legend_entries(fig)
    keys = [handle_key(handle) for _, handle in entries]
    labels = [label for label, _ in entries]
    for (a, ka), (b, kb) in itertools.combinations(zip(labels, keys, strict=True), 2):
        assert ka != kb, f"legend entries {a!r} and {b!r} look the same: {ka}"


def title_texts(fig: Figure) -> list[str]:
    return [fig.get_suptitle(), *(ax.get_title() for ax in fig.axes)]


def stated_seed_counts(fig: Figure) -> list[int]:
    """Every seed count the titles state ("3 seeds", "1 seed", "from 3 seeds")."""
    found = []
    for text in title_texts(fig):
        found += [int(k) for k in re.findall(r"(\d+) seeds?\b", text)]
    return found


def assert_seed_counts(fig: Figure, n_seeds: int, diverged: int = 0) -> None:
    """The titles state the data's seed count (or, where seeds diverged, the seeds kept and
    the total), and no other."""
    stated = stated_seed_counts(fig)
    assert stated, f"no seed count in the titles: {title_texts(fig)}"
    allowed = {n_seeds, n_seeds - diverged, diverged} - {0} if diverged else {n_seeds}
    assert set(stated) <= allowed | ({0} if diverged == n_seeds else set()), (
        stated,
        n_seeds,
        title_texts(fig),
    )


def assert_every_point_inside(fig: Figure) -> None:
    assert points_outside(fig) == []


def data_colours(ax) -> set[str]:
    """The colours of the labelled data artists of ``ax``: lines, bars, dots."""
    colours = set()
    for line in ax.get_lines():
        if not line.get_label().startswith("_"):
            colours.add(to_hex(line.get_color()))
    for patch in ax.patches:
        if not patch.get_label().startswith("_"):
            colours.add(to_hex(patch.get_facecolor()))
    return colours


def figure_texts(fig: Figure) -> list[str]:
    """Every text drawn: titles, axes texts and annotations, the figure's own texts."""
    texts = title_texts(fig) + [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        texts += [t.get_text() for t in ax.texts]
    return texts


# The course's sample sizes of the MNIST lectures (default grid's first four).
MNIST_SIZES = (500, 1000, 1500, 2000)


def mnist_results(
    conditions=("original", "doubled", "doubled_train_only", "original_matched_steps"),
    seeds: int = 3,
    sizes=MNIST_SIZES,
    diverged=lambda condition, n, seed: False,
    near: set[str] = frozenset(),
) -> pd.DataFrame:
    """An MNIST results table as the aggregation writes it. The original's devset accuracy
    at the smallest N is about 10 % (it has not learned yet: below the course's 20 % axis
    floor); copies before the split gain on the devset from the leak; conditions in
    ``near`` lie within a tenth of a point of ``original_matched_steps``."""
    rng = np.random.default_rng(7)
    gains = {"original": 0.0, "original_matched_steps": 3.0}
    shared = {key: rng.normal(0, 1.5) for key in itertools.product(sizes, range(seeds))}
    rows = []
    for n, condition, seed in itertools.product(sizes, conditions, range(seeds)):
        learned = 10.0 if n == min(sizes) else 70.0 + 20 * (1 - 1000 / (n + 1000))
        leak = 12.0 if condition in ("doubled", "noisy", "flipped") else 0.0
        if condition in near:
            test = learned + gains["original_matched_steps"] + shared[n, seed] + 0.05
        else:
            test = learned + gains.get(condition, 4.0) + shared[n, seed] + rng.normal(0, 0.8)
        broken = diverged(condition, n, seed)
        nan = np.nan if broken else 1.0
        steps = 2 if condition not in ("original",) else 1
        rows.append(
            {
                "n": n,
                "condition": condition,
                "seed": seed,
                "epochs": 50 * steps,
                "steps": 50 * steps * n // 20,
                "n_train": int(0.9 * n) * steps,
                "n_dev": n // 10,
                "n_test": 10000 - n,
                "train_acc": nan * min(100.0, 99.0 + rng.random()),
                "dev_acc": nan * min(100.0, test + leak),
                "train_loss": nan * 0.05 * rng.random(),
                "final_dev_acc": nan * min(100.0, test + leak + rng.normal(0, 0.5)),
                "test_acc": nan * test,
                "diverged": broken,
            }
        )
    return conform(rows, MNIST_RESULT)
