"""Every number that would break something later is bounded in the schema, with the reason
in its description: seeds of every section (one ``$defs/seeds`` entry), centres and spread
(float32 data must stay finite), sizes (memory), the download's deadline and size cap. A value
past a bound is one line naming the key and the allowed range."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pytest

from conftest import REPO, base_config, deep_merge
from moredata.augment.data import make_augment_data
from moredata.best.data import make_best_data
from moredata.config import load_schema, validate_config
from moredata.errors import ConfigError

SCHEMA_PATH = REPO / "workflow" / "schemas" / "config.schema.yaml"
SCHEMA = load_schema(SCHEMA_PATH)
SEED_MAX = 2**32 - 1
E = re.escape


def described_nodes(
    schema: Mapping[str, Any], path: str = "", description: str = ""
) -> Iterator[tuple[str, Mapping[str, Any], str]]:
    """Every subschema of the config (local ``$ref``s followed, the referring keys winning,
    as moredata.config reads them) with the descriptions a reader sees for it: its own, that
    of the ``$defs`` entry it refers to, or else the nearest enclosing one."""
    own = [schema.get("description", "")]
    while "$ref" in schema:
        target: Any = SCHEMA
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        own.append(target.get("description", ""))
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    description = " ".join(filter(None, own)) or description
    yield path, schema, description
    for key, sub in schema.get("properties", {}).items():
        yield from described_nodes(sub, f"{path}.{key}".lstrip("."), "")
    if isinstance(schema.get("items"), Mapping):
        yield from described_nodes(schema["items"], f"{path}[]", description)


# Every key named seeds, wherever the schema has one (the sections may gain their own).
SEED_KEYS = [path for path, _, _ in described_nodes(SCHEMA) if path.rsplit(".", 1)[-1] == "seeds"]


def at(path: str, value: Any) -> dict:
    """``{"a": {"b": value}}`` for the key path ``a.b``."""
    for key in reversed(path.split(".")):
        value = {key: value}
    return value


def error_of(override: dict) -> str:
    config = deep_merge(base_config(), override)
    with pytest.raises(ConfigError) as caught:
        validate_config(config, SCHEMA_PATH)
    return str(caught.value)


def too_big(key: str, value: Any, low: Any, high: Any, low_op: str = "<=") -> str:
    return (
        f"config key '{key}': {value} is greater than the maximum of {high}; allowed: "
        f"{low} {low_op} value <= {high}"
    )


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        *[
            pytest.param(
                at(key, [0, 2**63]), too_big(f"{key}[1]", 2**63, 0, SEED_MAX), id=f"{key}-2**63"
            )
            for key in SEED_KEYS
        ],
        *[
            pytest.param(
                {section: {"centers": [[1, 1], [1e300, 1]]}},
                too_big(f"{section}.centers[1][0]", 1e300, -1000000, 1000000),
                id=f"centre-1e300-{section}",
            )
            for section in ("depth", "augment", "best")
        ],
        pytest.param(
            {"depth": {"centers": [[1, 1], [1, -1e300]]}},
            f"config key 'depth.centers[1][1]': {-1e300} is less than the minimum of -1000000; "
            "allowed: -1000000 <= value <= 1000000",
            id="centre-minus-1e300",
        ),
        *[
            pytest.param(
                {section: {"spread": 1e300}},
                too_big(f"{section}.spread", 1e300, 0, 1000000, "<"),
                id=f"spread-1e300-{section}",
            )
            for section in ("depth", "augment", "best")
        ],
        pytest.param(
            {"wine": {"download_timeout_s": 1e10}},
            too_big("wine.download_timeout_s", 1e10, 0, 86400, "<"),
            id="timeout-1e10",
        ),
        pytest.param(
            {"wine": {"max_download_bytes": 10**12}},
            too_big("wine.max_download_bytes", 10**12, 1, 1000000000),
            id="download-cap",
        ),
        pytest.param(
            {"augment": {"plot_seed": 2**63}},
            too_big("augment.plot_seed", 2**63, 0, SEED_MAX),
            id="plot-seed",
        ),
        # sizes that would exhaust memory or overflow a table column
        *[
            pytest.param(override, too_big(key, value, 1, high), id=key)
            for override, key, value, high in [
                ({"depth": {"n_per_cloud": [30, 10**9]}}, "depth.n_per_cloud[1]", 10**9, 10**6),
                ({"augment": {"n_per_cloud": 10**9}}, "augment.n_per_cloud", 10**9, 10**6),
                ({"best": {"n_train": 10**9}}, "best.n_train", 10**9, 10**6),
                ({"best": {"n_dev": 10**9}}, "best.n_dev", 10**9, 10**6),
                ({"anatomy": {"observations": 10**9}}, "anatomy.observations", 10**9, 10**5),
                ({"anatomy": {"features": 10**9}}, "anatomy.features", 10**9, 100),
                ({"anatomy": {"label_max": 2**63}}, "anatomy.label_max", 2**63, 10**5),
                ({"anatomy": {"batch_size": 10**9}}, "anatomy.batch_size", 10**9, 10**6),
                ({"depth": {"batch_size": 10**9}}, "depth.batch_size", 10**9, 10**6),
                (
                    {"unbalanced": {"hidden_layers": [16, 10**6]}},
                    "unbalanced.hidden_layers[1]",
                    10**6,
                    4096,
                ),
                ({"best": {"hidden_layers": [10**6]}}, "best.hidden_layers[0]", 10**6, 4096),
                ({"depth": {"total_units": 10**6}}, "depth.total_units", 10**6, 4096),
                ({"unbalanced": {"epochs": 2**31}}, "unbalanced.epochs", 2**31, 100000),
                ({"augment": {"epochs": 10**9}}, "augment.epochs", 10**9, 100000),
                (
                    {"unbalanced": {"threshold_overrides": [{"threshold": 4, "epochs": 10**9}]}},
                    "unbalanced.threshold_overrides[0].epochs",
                    10**9,
                    100000,
                ),
            ]
        ],
        pytest.param(
            {"augment": {"hidden_layers": [8] * 33}},
            "config key 'augment.hidden_layers': [8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, "
            "8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8] is too long; allowed: 1 to 32 "
            "items",
            id="33-layers",
        ),
    ],
)
def test_a_value_past_its_bound_is_one_line_naming_the_key(override, expected):
    assert error_of(override) == expected


def test_every_seed_list_is_the_one_defs_entry():
    """The lead adds seeds to every section by pointing at $defs/seeds: every key named
    seeds must, so that one bound holds everywhere."""
    assert {"augment.seeds", "best.seeds"} <= set(SEED_KEYS)

    def referenced(path: str) -> str:
        node: Any = SCHEMA
        for part in path.split("."):
            node = node["properties"][part]
        return node.get("$ref", "")

    assert all(referenced(path) == "#/$defs/seeds" for path in SEED_KEYS)
    assert SCHEMA["$defs"]["seeds"]["items"] == {"$ref": "#/$defs/seed"}
    assert (SCHEMA["$defs"]["seed"]["minimum"], SCHEMA["$defs"]["seed"]["maximum"]) == (
        0,
        SEED_MAX,
    )


def test_every_upper_bound_is_stated_in_a_description():
    """Each maximum appears in the description a user reads for that key, and each $defs
    entry that bounds a value says why."""
    for path, node, description in described_nodes(SCHEMA):
        for bound in ("maximum", "exclusiveMaximum"):
            if bound in node:
                assert str(node[bound]) in description, (path, bound, description)
    for name, entry in SCHEMA["$defs"].items():
        if "maximum" in entry or "maxItems" in entry:
            bound = entry.get("maximum", entry.get("maxItems"))
            assert str(bound) in entry.get("description", ""), f"$defs/{name} does not say why"


def test_the_course_config_is_within_the_bounds():
    validate_config(base_config(), SCHEMA_PATH)


def test_data_at_the_bounds_is_finite():
    """The largest centres and spread the schema allows give finite float32 data, distance
    feature included; the largest seed draws data in both lectures."""
    extreme = [[-1e6, -1e6], [1e6, 1e6], [1e6, -1e6]]
    data = make_augment_data(500, extreme, 1e6, 0.1, SEED_MAX)
    values = data[["x", "y", "distance"]].to_numpy()
    assert values.dtype == np.float32 and np.isfinite(values).all()
    assert math.isclose(np.abs(data["x"]).max(), 1e6 + 1e6 * 3, rel_tol=0.5)
    settings = {"n_per_cloud": 500, "centers": extreme, "spread": 1e6, "n_train": 900}
    best = make_best_data({**settings, "n_dev": 300}, SEED_MAX)
    assert np.isfinite(best[["x", "y"]].to_numpy()).all()
    assert best["split"].value_counts().to_dict() == {"train": 900, "dev": 300, "test": 300}


def test_values_past_the_old_limits_were_what_broke():
    """Why the bounds are where they are: 1e300 as float32 is infinite data, and a timeout
    of 1e10 s overflows the socket layer."""
    import socket

    with np.errstate(over="ignore"):
        data = make_augment_data(10, [[0, 0], [1e300, 0]], 1.0, 0.5, 0)
    assert not np.isfinite(data[["x", "distance"]].to_numpy()).all()
    with socket.socket() as sock, pytest.raises(OverflowError):
        sock.settimeout(1e10)
    with socket.socket() as sock:
        sock.settimeout(86400)


# --- One definition per kind of key (issue 28 item 4) --------------------------------------

# The kind of a key, from its name, and the $defs entries a key of that kind may refer to
# (itself, or as the items of a list). The first matching pattern decides. A new section's
# key of a known kind that states its own bounds instead fails the test below.
KINDS: list[tuple[str, tuple[str, ...]]] = [
    (r"(.+_)?epochs", ("epochs",)),
    (r"(.+_)?learning_rate", ("learning_rate",)),
    (r".+_timeout_s", ("timeout_s",)),
    (r"max_.*bytes", ("download_bytes",)),
    (r".+_fraction", ("fraction",)),
    (r"(.+_)?batch_size", ("batch_size",)),
    (r"seeds", ("seeds",)),
    (r"(.+_)?seed", ("seed", "optional_seed")),
    (r"(.+_)?hidden_layers", ("hidden_layers",)),
    (r"noise_.+", ("noise_level",)),
    (r"(.+_)?sizes|n_per_cloud|n_train|n_dev|.+_n|min_.+_images", ("sample_sizes", "sample_count")),
    (r"optimizer", ("optimizer",)),
    (r"weight_decay", ("weight_decay",)),
    (r"centers", ("centers",)),
    (r"spread", ("spread",)),
]


def kind_of(name: str) -> tuple[str, ...] | None:
    return next((defs for pattern, defs in KINDS if re.fullmatch(pattern, name)), None)


def declared_keys(schema: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, dict]]:
    """Every key the schema declares (sections, their keys, the keys of list-of-mapping
    entries such as threshold_overrides[]), with its schema as written (no $ref followed)."""
    for name, sub in schema.get("properties", {}).items():
        key = f"{path}.{name}".lstrip(".")
        yield key, sub
        yield from declared_keys(sub, key)
        if isinstance(sub.get("items"), Mapping):
            yield from declared_keys(sub["items"], f"{key}[]")


def refers_to(sub: Mapping[str, Any]) -> str:
    ref = sub.get("$ref") or (sub.get("items") or {}).get("$ref", "")
    return ref.removeprefix("#/$defs/")


def test_every_key_of_a_known_kind_refers_to_its_one_definition():
    """Each kind (epochs, learning rates, timeouts, byte caps, fractions, batch sizes, seeds,
    layer widths, noise levels, sizes, ...) is bounded once, in $defs: a section that states
    its own bounds (as mnist.download_timeout_s, oversampling.epochs and noise.noise_max did,
    which let 1e10 through) fails here."""
    wrong = {}
    for key, sub in declared_keys(SCHEMA):
        allowed = kind_of(key.rsplit(".", 1)[-1])
        if allowed is not None and refers_to(sub) not in allowed:
            wrong[key] = (refers_to(sub) or "its own bounds", allowed)
    assert not wrong, wrong
    assert {defs for _, group in KINDS for defs in group} <= set(SCHEMA["$defs"])


def test_the_kinds_cover_the_keys_that_had_no_bound():
    """The keys issue 28 found unbounded are of a known kind (so the test above holds them)."""
    keys = dict(declared_keys(SCHEMA))
    for key in (
        "mnist.download_timeout_s",
        "oversampling.epochs",
        "noise.epochs",
        "noise.noise_max",
    ):
        assert kind_of(key.rsplit(".", 1)[-1]) is not None and key in keys


def test_every_reference_is_to_defs():
    """A key refers to $defs, never to another section's key (noise's keys pointed into
    oversampling's, so a change to one section changed the other)."""
    refs = [
        (key, ref)
        for key, sub in declared_keys(SCHEMA)
        for ref in (sub.get("$ref"), (sub.get("items") or {}).get("$ref"))
        if ref
    ]
    assert refs and all(ref.startswith("#/$defs/") for _, ref in refs), refs


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        pytest.param(
            {"mnist": {"download_timeout_s": 1.0e10}},
            "config key 'mnist.download_timeout_s': 10000000000.0 is greater than the maximum of "
            "86400; allowed: 0 < value <= 86400",
            id="mnist-timeout",
        ),
        pytest.param(
            {"oversampling": {"epochs": 10**10}},
            "config key 'oversampling.epochs': 10000000000 is greater than the maximum of "
            "100000; allowed: 1 <= value <= 100000",
            id="oversampling-epochs",
        ),
        pytest.param(
            {"noise": {"epochs": 10**10}},
            "config key 'noise.epochs': 10000000000 is greater than the maximum of 100000; "
            "allowed: 1 <= value <= 100000",
            id="noise-epochs",
        ),
        pytest.param(
            {"noise": {"noise_max": 1e30}},
            "config key 'noise.noise_max': 1e+30 is greater than the maximum of 1; allowed: "
            "0 < value <= 1",
            id="noise-max",
        ),
        pytest.param(
            {"mnist": {"max_download_bytes": 10**10}},
            "config key 'mnist.max_download_bytes': 10000000000 is greater than the maximum of "
            "1000000000; allowed: 1 <= value <= 1000000000",
            id="mnist-bytes",
        ),
        pytest.param(
            {"noise": {"hidden_layers": [10**6]}},
            "config key 'noise.hidden_layers[0]': 1000000 is greater than the maximum of 4096; "
            "allowed: 1 <= value <= 4096",
            id="noise-width",
        ),
        pytest.param(
            {"unbalanced": {"threshold_overrides": [{"threshold": 4, "weight_decay": 1e308}]}},
            "config key 'unbalanced.threshold_overrides[0].weight_decay': 1e+308 is greater than "
            "the maximum of 1; allowed: 0 <= value <= 1",
            id="weight-decay",
        ),
        pytest.param(
            {"oversampling": {"batch_size": 10**7}},
            "config key 'oversampling.batch_size': 10000000 is greater than the maximum of "
            "1000000; allowed: 1 <= value <= 1000000",
            id="oversampling-batch",
        ),
    ],
)
def test_the_new_sections_have_the_bounds_of_their_kind(override, expected):
    assert error_of(override) == expected


def test_the_config_docs_point_to_no_file_outside_the_repository():
    """config/README.md and the schema it is generated from name only files of the checkout
    (the course's notes are not one: the descriptions cite the course)."""
    for path in (REPO / "config" / "README.md", SCHEMA_PATH):
        for name in set(re.findall(r"[\w./-]+\.md\b", path.read_text())):
            if "/" in name or name == "README.md":
                assert (REPO / name).exists() or (REPO / "config" / name).exists(), (path, name)
            else:
                assert list(REPO.glob(f"**/{name}")), (path, name)
