"""Two versions of the trainer side by side on the grid-mode bundles of the course grid.

Each bundle (the 3 wine thresholds; the 11 sizes of each layer count) trains with an older
training.py and with the current one, alternately, 3 times; the best CPU time of each (one
thread; less disturbed than wall time by other work on a shared machine) is scaled to the
course's epochs. Get the older file from git, e.g.
    git show c6d1d08:scripts/moredata/training.py > /tmp/training_old.py

Usage: python bench/trainer_ab.py /tmp/training_old.py
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import course_config, course_jobs

import moredata.training as new

EPOCHS = {"wine": 20, "depth": 10}  # timed epochs; the result is scaled to the course's


def load_old(path: str):
    spec = importlib.util.spec_from_file_location("training_old", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["training_old"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def as_replicate(module, rep: new.Replicate):
    """``rep`` as ``module``'s Replicate: the current one, or one from before held-out sets
    were named (x_test/y_test: the set judged each epoch and predicted; x_dev/y_dev: the set
    whose best epoch is kept)."""
    names = {f.name for f in dataclasses.fields(module.Replicate)}
    if "held_out" in names:
        return rep
    judged = rep.held_out[rep.predict or next(iter(rep.held_out))]
    sets = {"x_test": judged.x, "y_test": judged.y}
    if rep.keep_best is not None:
        sets |= {"x_dev": rep.held_out[rep.keep_best].x, "y_dev": rep.held_out[rep.keep_best].y}
    fields = {f.name: getattr(rep, f.name) for f in dataclasses.fields(rep) if f.name in names}
    return module.Replicate(**fields, **sets)


def main() -> None:
    old = load_old(sys.argv[1])
    torch.set_num_threads(1)
    bundles: dict[str, tuple[new.TrainSettings, list]] = {}
    for name, prepared in course_jobs(course_config(), 0):
        key = "wine" if name.startswith("wine") else name.split(" n=")[0]
        bundles.setdefault(key, (prepared.train, []))[1].append(prepared.replicate)
    totals = {"old": 0.0, "new": 0.0}
    print(f"{'bundle':<12} {'old':>8} {'new':>8} {'ratio':>6}")
    for key, (settings, replicates) in bundles.items():
        epochs = EPOCHS[key.split()[0]]
        times: dict[str, list[float]] = {"old": [], "new": []}
        for _ in range(3):
            for label, module in (("old", old), ("new", new)):
                fields = dataclasses.asdict(dataclasses.replace(settings, epochs=epochs))
                known = {f.name for f in dataclasses.fields(module.TrainSettings)}
                fields = {key: value for key, value in fields.items() if key in known}
                reps = [as_replicate(module, copy.deepcopy(r)) for r in replicates]
                start = time.process_time()
                module.train(reps, module.TrainSettings(**fields))
                times[label].append((time.process_time() - start) * settings.epochs / epochs)
        best = {label: min(values) for label, values in times.items()}
        for label in totals:
            totals[label] += best[label]
        print(f"{key:<12} {best['old']:7.1f}s {best['new']:7.1f}s {best['old'] / best['new']:6.2f}")
    print(
        f"{'all':<12} {totals['old']:7.1f}s {totals['new']:7.1f}s "
        f"{totals['old'] / totals['new']:6.2f}"
    )


if __name__ == "__main__":
    main()
