"""The DataLoader anatomy lecture as facts computed live with numpy and torch.

Nothing here is hard-coded: every value comes from running the objects it describes on a
toy data set (a standard-normal ``observations x features`` matrix drawn from
``np.random.default_rng(seed)`` and labels ``ceil(linspace(0.01, label_max, observations))``).

``compute_facts`` returns a JSON-serialisable dict with these keys (shapes are lists of ints,
dtypes are strings as numpy and torch print them):

``settings``, ``seed``
    The inputs, echoed.
``numpy_data``
    ``dtype`` and ``shape`` of the numpy matrix.
``tensor_conversion``
    ``tensor_dtype`` of ``torch.tensor(data)``, ``float_dtype`` of ``.float()`` and
    ``long_dtype`` of ``.long()``.
``long_truncates``
    ``values`` (a few entries of the tensor, magnitude >= 1 first), their ``long`` and
    ``trunc`` versions, and ``drops_decimals``: whether ``.long()`` equals truncation toward
    zero on the whole tensor (and so changes the non-integer entries).
``size_vs_shape``
    numpy's ``numpy_shape``, torch's ``size`` and ``shape``, and ``equal`` (size == shape).
``labels``
    ``shape`` (a column), ``unique`` values, numpy ``dtype`` and the ``tensor_dtype`` used in
    the data sets (``.long()``, class indices).
``numpy_dataset_error``
    ``TensorDataset(numpy_array)``: ``raised``, exception ``type`` name and the first line of
    its ``message``.
``dataset``
    ``length`` of ``TensorDataset(data)``, and the tuple length of one item for
    ``TensorDataset(data)`` (``item_len_data_only``) and ``TensorDataset(data, labels)``
    (``item_len_with_labels``).
``loader``
    ``DataLoader(dataset, batch_size)``: ``keeps_dataset`` (``loader.dataset is dataset``),
    ``len`` (batches known before iterating), ``batches`` (counted by iterating),
    ``data_shapes`` and ``label_shapes`` of each batch, and ``drop_last``.
``unshuffled_order``
    Labels concatenated over one unshuffled pass: ``equals_labels`` (same order as the data
    set) and ``sorted``.
``shuffled_order``
    ``shuffle=True`` with a ``torch.Generator`` seeded from ``seed``: ``iterations_differ``
    (two successive passes give different orders), ``differs_from_unshuffled``,
    ``permutations_of_labels`` (both passes hold exactly the labels) and the ``first_head`` /
    ``second_head`` of each order.
``single_batch``
    ``next(iter(loader))``: ``data_shape`` and ``label_shape`` of the one batch it returns.
"""

from __future__ import annotations

import collections
import json
import logging
import string
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from moredata.seeds import Purpose, derive_seed
from moredata.tables import write_atomically

log = logging.getLogger(__name__)

SETTING_KEYS = ("observations", "features", "label_max", "batch_size")
# How many values to show for the .long() comparison and for the heads of label orders.
_SAMPLE = 6
_HEAD = 10
# The report's text, packaged with moredata (pyproject.toml, package-data).
REPORT_TEMPLATE = string.Template(
    resources.files("moredata.anatomy").joinpath("template.md").read_text(encoding="utf-8")
)


def _shape(value: Any) -> list[int]:
    return [int(n) for n in value.shape]


def _labels_of_one_pass(loader: DataLoader) -> list[int]:
    return [int(y) for _, labels in loader for y in labels.flatten()]


def _numpy_dataset_error(data: np.ndarray) -> dict[str, Any]:
    try:
        TensorDataset(data)  # type: ignore[arg-type]  # the point: it wants tensors
    except Exception as error:  # the lecture's point is the (unhelpful) failure itself
        text = str(error)
        return {
            "raised": True,
            "type": type(error).__name__,
            "message": text.splitlines()[0] if text else "",
        }
    return {"raised": False, "type": None, "message": None}


def _numpy_size_call(data: np.ndarray) -> dict[str, Any]:
    """numpy's ``.size`` is the element count, an int: calling it like torch's ``.size()``
    fails."""
    try:
        data.size()  # type: ignore[operator]  # the point: numpy has no size() method
    except TypeError as error:
        return {"raised": True, "type": type(error).__name__, "message": str(error)}
    return {"raised": False, "type": None, "message": None}


def compute_facts(settings: Mapping[str, int], seed: int) -> dict[str, Any]:
    """Run the lecture's demonstrations on fresh toy data and report what they show."""
    missing = [key for key in SETTING_KEYS if key not in settings]
    if missing:
        raise KeyError(f"anatomy settings lack {missing}")
    n_obs, n_features = int(settings["observations"]), int(settings["features"])
    label_max, batch_size = int(settings["label_max"]), int(settings["batch_size"])

    data = np.random.default_rng(seed).standard_normal((n_obs, n_features))
    tensor = torch.tensor(data)
    as_long = tensor.long()
    # Show entries of magnitude >= 1 first, so the dropped decimals are visible.
    flat = tensor.flatten()
    order = torch.argsort((flat.abs() < 1).to(torch.int8), stable=True)
    sample = flat[order[:_SAMPLE]]

    # As in the lecture: a float column of class numbers, made integer with .long().
    labels_np = np.ceil(np.linspace(0.01, label_max, n_obs)).reshape(-1, 1)
    labels_float = torch.tensor(labels_np)
    features = tensor.float()
    labels = labels_float.long()
    spread = torch.linspace(0, n_obs - 1, _SAMPLE).long()  # sample positions across the classes

    data_only = TensorDataset(features)
    dataset = TensorDataset(features, labels)

    loader = DataLoader(dataset, batch_size=batch_size)
    batches = list(loader)
    label_order = [int(y) for y in labels.flatten()]
    unshuffled = _labels_of_one_pass(loader)

    generator = torch.Generator().manual_seed(derive_seed(seed, Purpose.SHUFFLE))
    shuffled_loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator)
    first, second = _labels_of_one_pass(shuffled_loader), _labels_of_one_pass(shuffled_loader)

    single_data, single_labels = next(iter(loader))

    facts: dict[str, Any] = {
        "settings": {key: int(settings[key]) for key in SETTING_KEYS},
        "seed": int(seed),
        "numpy_data": {"dtype": str(data.dtype), "shape": _shape(data)},
        "tensor_conversion": {
            "tensor_dtype": str(tensor.dtype),
            "float_dtype": str(tensor.float().dtype),
            "long_dtype": str(as_long.dtype),
        },
        "long_truncates": {
            "values": [round(float(v), 4) for v in sample],
            "long": [int(v) for v in sample.long()],
            "trunc": [int(v) for v in torch.trunc(sample)],
            "drops_decimals": bool(
                torch.equal(as_long, torch.trunc(tensor).long())
                and not torch.equal(as_long.double(), tensor)
            ),
        },
        "size_vs_shape": {
            "numpy_shape": _shape(data),
            "size": list(tensor.size()),
            "shape": list(tensor.shape),
            "equal": bool(tensor.size() == tensor.shape),
            "numpy_size_attribute": int(data.size),
            "numpy_size_call": _numpy_size_call(data),
        },
        "labels": {
            "shape": _shape(labels_np),
            "unique": [int(v) for v in np.unique(labels_np)],
            "dtype": str(labels_np.dtype),
            "float_tensor_dtype": str(labels_float.dtype),
            "tensor_dtype": str(labels.dtype),
            "float_sample": [float(v) for v in labels_float.flatten()[spread]],
            "long_sample": [int(v) for v in labels.flatten()[spread]],
            "long_keeps_values": bool(torch.equal(labels.double(), labels_float)),
        },
        "numpy_dataset_error": _numpy_dataset_error(data),
        "dataset": {
            "length": len(data_only),
            "item_len_data_only": len(data_only[0]),
            "item_len_with_labels": len(dataset[0]),
        },
        "loader": {
            "keeps_dataset": loader.dataset is dataset,
            "len": len(loader),
            "batches": len(batches),
            "data_shapes": [_shape(x) for x, _ in batches],
            "label_shapes": [_shape(y) for _, y in batches],
            "drop_last": bool(loader.drop_last),
        },
        "unshuffled_order": {
            "equals_labels": unshuffled == label_order,
            "sorted": unshuffled == sorted(unshuffled),
        },
        "shuffled_order": {
            "iterations_differ": first != second,
            "differs_from_unshuffled": first != unshuffled and second != unshuffled,
            "permutations_of_labels": sorted(first) == sorted(label_order)
            and sorted(second) == sorted(label_order),
            "first_head": first[:_HEAD],
            "second_head": second[:_HEAD],
        },
        "single_batch": {
            "data_shape": _shape(single_data),
            "label_shape": _shape(single_labels),
        },
    }
    # Worded so that a successful run's log has no line that reads like a failure.
    log.info(
        "anatomy: %d x %d data, %d batches of up to %d; TensorDataset %s a numpy array",
        n_obs,
        n_features,
        len(batches),
        batch_size,
        "refuses" if facts["numpy_dataset_error"]["raised"] else "accepts",
    )
    return facts


def _dims(shape: list[int]) -> str:
    return " x ".join(str(n) for n in shape)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _raises(call: dict[str, Any], library: str) -> str:
    """What a demonstrated call raised, or that ``library`` let it pass."""
    if call["raised"]:
        return f"raises `{call['type']}`: `{call['message']}`"
    return f"raises nothing with this {library} version"


def render_report(facts: dict[str, Any]) -> str:
    """The facts as a short Markdown report, one section per fact: the text is the template
    ``anatomy/template.md``, filled with :class:`string.Template`."""
    return REPORT_TEMPLATE.substitute(report_values(facts))


def report_values(facts: dict[str, Any]) -> dict[str, Any]:
    """The value of each placeholder of the report template, as the report shows it."""
    s = facts["settings"]
    conv, trunc, sizes = facts["tensor_conversion"], facts["long_truncates"], facts["size_vs_shape"]
    labels, dataset = facts["labels"], facts["dataset"]
    loader, plain, shuffled = facts["loader"], facts["unshuffled_order"], facts["shuffled_order"]
    shape_counts = collections.Counter(
        f"{_dims(data_shape)} data, {_dims(label_shape)} labels"
        for data_shape, label_shape in zip(
            loader["data_shapes"], loader["label_shapes"], strict=True
        )
    )
    return dict(
        seed=facts["seed"],
        observations=s["observations"],
        features=s["features"],
        label_max=s["label_max"],
        batch_size=s["batch_size"],
        numpy_dtype=facts["numpy_data"]["dtype"],
        numpy_shape=_dims(facts["numpy_data"]["shape"]),
        tensor_dtype=conv["tensor_dtype"],
        float_dtype=conv["float_dtype"],
        long_dtype=conv["long_dtype"],
        long_values=trunc["values"],
        long_long=trunc["long"],
        long_trunc=trunc["trunc"],
        drops_decimals=_yes(trunc["drops_decimals"]),
        size_numpy_shape=_dims(sizes["numpy_shape"]),
        numpy_size=sizes["numpy_size_attribute"],
        numpy_size_call=_raises(sizes["numpy_size_call"], "numpy"),
        torch_size=_dims(sizes["size"]),
        torch_shape=_dims(sizes["shape"]),
        size_equals_shape=_yes(sizes["equal"]),
        labels_shape=_dims(labels["shape"]),
        labels_dtype=labels["dtype"],
        labels_float_tensor_dtype=labels["float_tensor_dtype"],
        labels_float_sample=labels["float_sample"],
        labels_tensor_dtype=labels["tensor_dtype"],
        labels_long_sample=labels["long_sample"],
        labels_long_keeps_values=_yes(labels["long_keeps_values"]),
        labels_unique=labels["unique"],
        numpy_dataset_error=_raises(facts["numpy_dataset_error"], "torch"),
        dataset_length=dataset["length"],
        item_len_data_only=dataset["item_len_data_only"],
        item_len_with_labels=dataset["item_len_with_labels"],
        keeps_dataset=_yes(loader["keeps_dataset"]),
        loader_len=loader["len"],
        loader_batches=loader["batches"],
        drop_last=loader["drop_last"],
        batch_lines="\n".join(f"  - {n} x ({shapes})" for shapes, n in shape_counts.items()),
        unshuffled_equals_labels=_yes(plain["equals_labels"]),
        unshuffled_sorted=_yes(plain["sorted"]),
        first_head=shuffled["first_head"],
        second_head=shuffled["second_head"],
        iterations_differ=_yes(shuffled["iterations_differ"]),
        differs_from_unshuffled=_yes(shuffled["differs_from_unshuffled"]),
        permutations_of_labels=_yes(shuffled["permutations_of_labels"]),
        single_data_shape=_dims(facts["single_batch"]["data_shape"]),
        single_label_shape=_dims(facts["single_batch"]["label_shape"]),
    )


def _text_writer(text: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_text(text, encoding="utf-8")

    return write


def write_anatomy(
    settings: Mapping[str, int], seed: int, report_path: str | Path, facts_path: str | Path
) -> None:
    """Compute the facts and write the Markdown report and the JSON facts, each atomically."""
    facts = compute_facts(settings, seed)
    report = render_report(facts)
    text = json.dumps(facts, indent=2, sort_keys=True) + "\n"
    write_atomically(report_path, _text_writer(report))
    write_atomically(facts_path, _text_writer(text))
    log.info("wrote %s and %s", report_path, facts_path)


def anatomy_step(
    inputs: Mapping[str, str], values: Mapping[str, Any], outputs: Mapping[str, str]
) -> None:
    """The rule compute_anatomy (moredata.registry): the report and the facts."""
    write_anatomy(values["settings"], values["seed"], outputs["report"], outputs["facts"])
