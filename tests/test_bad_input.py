"""Bad input: a wrong config, a bad data file or a diverging training stops the pipeline with
one line that names the config key or the file and what is allowed, a non-zero exit status,
and no output left behind (so no figure is ever drawn from half-written or wrong data).

The config table runs fast through ``moredata.config.validate_config`` (the function the
Snakefile calls: Snakemake's JSON-schema validation plus the project's own checks); a sample
of it, and the data and training faults, run through the real Snakefile."""

from __future__ import annotations

import csv
import hashlib
import http.server
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from conftest import RED_WINE, REPO, Workflow, base_config
from harness import error_lines, tiny_config
from moredata.config import validate_config
from moredata.errors import ConfigError, DataError, DownloadError
from moredata.wine.data import read_wine_csv
from moredata.wine.download import fetch_verified

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
WHITE_WINE = RED_WINE.with_name("winequality-white.csv")
WHITE_WINE_SHA256 = "76c3f809815c17c07212622f776311faeb31e87610d52c26d87d6e361b169836"
FEATURES = (
    "fixed acidity, volatile acidity, citric acid, residual sugar, chlorides, free sulfur "
    "dioxide, total sulfur dioxide, density, pH, sulphates, alcohol, quality"
)


def one_line(message: str, pattern: str) -> None:
    """``message`` is a single line that matches ``pattern`` entirely."""
    assert "\n" not in message, message
    assert re.fullmatch(pattern, message), f"{message!r}\n does not match\n{pattern!r}"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def closed_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- Config: (override, the exact line; regex) ---------------------------------------------

E = re.escape
CONFIG_CASES = [
    # wrong types
    pytest.param(
        {"depth": {"seeds": "0"}},
        E("config key 'depth.seeds': '0' is not of type 'array'"),
        id="seeds-str",
    ),
    pytest.param(
        {"unbalanced": {"epochs": "500"}},
        E("config key 'unbalanced.epochs': '500' is not of type 'integer'")
        + E("; write 500 without quotes"),
        id="epochs-quoted",
    ),
    pytest.param(
        {"unbalanced": {"epochs": 3.0}},
        E("config key 'unbalanced.epochs': 3.0 is not an integer; write 3"),
        id="epochs-float",
    ),
    pytest.param(
        {"unbalanced": {"thresholds": [4.0, 6]}},
        E("config key 'unbalanced.thresholds[0]': 4.0 is not an integer; write 4"),
        id="threshold-float",
    ),
    pytest.param(
        {"depth": {"learning_rate": "fast"}},
        E("config key 'depth.learning_rate': 'fast' is not of type 'number'"),
        id="learning-rate-str",
    ),
    pytest.param(
        {"unbalanced": {"stratify": "yes"}},
        E("config key 'unbalanced.stratify': 'yes' is not of type 'boolean'")
        + E("; write true or false, without quotes"),
        id="stratify-str",
    ),
    pytest.param(
        {"training": {"on_divergence": "ignore"}},
        E("config key 'training.on_divergence': 'ignore' is not one of ['fail', 'record']"),
        id="on-divergence-enum",
    ),
    pytest.param(
        {"wine": {"path": 5}},
        E("config key 'wine.path': 5 is not of type 'string', 'null'"),
        id="wine-path-int",
    ),
    pytest.param(
        {"unbalanced": {"remedies": ["smote"]}},
        E("config key 'unbalanced.remedies[0]': 'smote' is not one of ")
        + r"\['none', 'class_weight', 'oversample', 'undersample'\]",
        id="remedy-enum",
    ),
    pytest.param(
        {"unbalanced": {"learning_rate": float("nan")}},
        E("config key 'unbalanced.learning_rate': nan is not allowed; use a finite number"),
        id="learning-rate-nan",
    ),
    pytest.param(
        {"wine": {"sha256": "abc"}},
        E("config key 'wine.sha256': 'abc' does not match '^[0-9a-fA-F]{64}$' (") + ".*64 hex.*",
        id="sha256-pattern",
    ),
    # unknown keys
    pytest.param(
        {"save_model": True},
        E("config key 'save_model': unknown key (did you mean 'save_models'?); allowed keys at ")
        + r"the top level: anatomy, .*save_models, training, unbalanced, wine",
        id="unknown-top-level",
    ),
    pytest.param(  # each experiment has its own seeds now
        {"seeds": [0]},
        E("config key 'seeds': unknown key (each experiment has its own now: unbalanced.seeds, ")
        + ".*"
        + E("); allowed keys at the top level: ")
        + ".*",
        id="top-level-seeds",
    ),
    pytest.param(
        {"unbalanced": {"epoch": 5}},
        E("config key 'unbalanced.epoch': unknown key (did you mean 'epochs'?); allowed keys ")
        + E("in 'unbalanced': activation, batch_size, epochs, ")
        + ".*",
        id="unknown-nested",
    ),
    pytest.param(
        {"unbalanced": {"threshold_overrides": [{"threshold": 4, "epoch": 5}]}},
        E("config key 'unbalanced.threshold_overrides[0].epoch': unknown key (did you mean ")
        + E("'epochs'?); allowed keys in 'unbalanced.threshold_overrides[0]': batch_size, ")
        + ".*threshold.*",
        id="unknown-in-override",
    ),
    # empty lists
    pytest.param(
        {"unbalanced": {"seeds": []}},
        E("config key 'unbalanced.seeds': must not be an empty list"),
        id="no-seeds",
    ),
    pytest.param(
        {"unbalanced": {"thresholds": []}},
        E("config key 'unbalanced.thresholds': must not be an empty list"),
        id="no-thresholds",
    ),
    pytest.param(
        {"depth": {"layers": []}},
        E("config key 'depth.layers': must not be an empty list"),
        id="no-layers",
    ),
    # zero or negative epochs, batch size, learning rate
    pytest.param(
        {"unbalanced": {"epochs": 0}},
        E("config key 'unbalanced.epochs': 0 is less than the minimum of 1; allowed: ")
        + E("1 <= value <= 100000"),
        id="epochs-0",
    ),
    pytest.param(
        {"depth": {"epochs": -1}},
        E("config key 'depth.epochs': -1 is less than the minimum of 1; allowed: ")
        + E("1 <= value <= 100000"),
        id="epochs-negative",
    ),
    pytest.param(
        {"depth": {"batch_size": 0}},
        E("config key 'depth.batch_size': 0 is less than the minimum of 1; allowed: ")
        + E("1 <= value <= 1000000"),
        id="batch-size-0",
    ),
    pytest.param(
        {"unbalanced": {"learning_rate": 0}},
        E("config key 'unbalanced.learning_rate': 0 is less than or equal to the minimum of 0; ")
        + E("allowed: value > 0"),
        id="learning-rate-0",
    ),
    pytest.param(
        {"depth": {"learning_rate": -0.01}},
        E("config key 'depth.learning_rate': -0.01 is less than or equal to the minimum of 0; ")
        + E("allowed: value > 0"),
        id="learning-rate-negative",
    ),
    # test fraction outside (0, 1)
    *[
        pytest.param(
            {section: {"test_fraction": value}},
            E(f"config key '{section}.test_fraction': {value} is ")
            + ("less" if value <= 0 else "greater")
            + E(
                f" than or equal to the {'minimum' if value <= 0 else 'maximum'} of "
                f"{0 if value <= 0 else 1}; allowed: 0 < value < 1"
            ),
            id=f"{section}-test-fraction-{value}",
        )
        for section, value in [
            ("unbalanced", 0),
            ("unbalanced", 1),
            ("depth", 1.5),
            ("depth", -0.1),
        ]
    ],
    # cross-key rules
    pytest.param(
        {"depth": {"layers": [1, 3]}},
        E("config key 'depth.layers[1]': 3 does not divide depth.total_units=80; allowed layer ")
        + E("counts: 1, 2, 4, 5, 8, 10, 16, 20, 40, 80"),
        id="layers-not-dividing-units",
    ),
    pytest.param(
        {"depth": {"n_per_cloud": [2, 30]}},
        E("config key 'depth.n_per_cloud[0]': 2 points per cloud leave 5 training samples, ")
        + E("fewer than one batch (depth.batch_size=8); use at least 3"),
        id="sample-smaller-than-batch",
    ),
    pytest.param(
        {"depth": {"result_epochs": 7}},
        E("config key 'depth.result_epochs': 7 is more than depth.epochs=6; use at most 6"),
        id="result-epochs-above-epochs",
    ),
    pytest.param(
        {"unbalanced": {"threshold_overrides": [{"threshold": 5, "epochs": 9}]}},
        E("config key 'unbalanced.threshold_overrides[0].threshold': 5 is not in ")
        + E("unbalanced.thresholds [4, 6]; override one of those"),
        id="override-of-unknown-threshold",
    ),
    pytest.param(
        {"unbalanced": {"threshold_overrides": [{"threshold": 4}, {"threshold": 4}]}},
        E("config key 'unbalanced.threshold_overrides[1].threshold': threshold 4 is ")
        + E("overridden twice; merge the two entries"),
        id="override-twice",
    ),
]


@pytest.mark.parametrize(("override", "expected"), CONFIG_CASES)
def test_bad_config_is_one_line_naming_the_key(override, expected):
    with pytest.raises(ConfigError) as caught:
        validate_config(tiny_config(override), SCHEMA)
    one_line(str(caught.value), expected)


def test_the_course_config_and_the_tiny_config_are_valid():
    validate_config(base_config(), SCHEMA)
    validate_config(tiny_config(), SCHEMA)


# A sample of the table through the real Snakefile: same line, exit 1, nothing written. The
# Snakefile reports every message of the table the same way; one of each kind (the schema's,
# an unknown key, a cross-key rule) shows it.
WORKFLOW_CONFIG_CASES = [
    case
    for case in CONFIG_CASES
    if case.id in {"top-level-seeds", "epochs-float", "layers-not-dividing-units"}
]


def assert_nothing_written(workflow: Workflow) -> None:
    for part in ("results", "logs", "benchmarks"):
        assert not workflow.path(part).exists(), part


@pytest.mark.slow
@pytest.mark.parametrize(("override", "expected"), WORKFLOW_CONFIG_CASES)
def test_snakemake_stops_on_a_bad_config_before_any_job(make_workflow, override, expected):
    workflow = make_workflow(override)
    result = workflow.run(check=False, timeout=120)
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert any(re.fullmatch(expected, line) for line in lines), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert_nothing_written(workflow)


@pytest.mark.slow
def test_dry_run_and_own_configfile_report_the_same_line(make_workflow, tmp_path):
    workflow = make_workflow()
    mine = tmp_path / "my.yaml"
    mine.write_text("unbalanced:\n  learning_rate: 0\n")
    result = workflow.run("--dry-run", "--configfile", str(mine), check=False, timeout=120)
    assert result.returncode != 0
    output = result.stdout + result.stderr  # a dry run reports on stdout
    assert (
        "config key 'unbalanced.learning_rate': 0 is less than or equal to the minimum of 0; "
        "allowed: value > 0" in output.splitlines()
    )
    assert_nothing_written(workflow)


# --- Data files, built from the real red-wine file ------------------------------------------


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def truncated(text: str) -> str:
    """Cut after 17 characters of line 102, in the middle of a row (as a broken download)."""
    lines = _lines(text)
    return "".join(lines[:101]) + lines[101][:17]


def replace_cell(text: str, row: int, column: int, value: str) -> str:
    lines = _lines(text)
    cells = lines[row].rstrip("\n").split(";")
    cells[column] = value
    lines[row] = ";".join(cells) + "\n"
    return "".join(lines)


def drop_column(text: str, column: int) -> str:
    return "".join(
        ";".join(c for i, c in enumerate(line.rstrip("\n").split(";")) if i != column) + "\n"
        for line in _lines(text)
    )


DATA_CASES: list = [
    pytest.param(
        truncated,
        r"{f}: line 102 has 5 of 12 fields and the file ends without a newline: the file is "
        r"truncated",
        id="truncated-mid-row",
    ),
    pytest.param(
        lambda t: t.replace(";", ","),
        r"{f}: line 1 has no ';' \(it is separated by commas; it starts '\"fixed acidity\",.*'\); "
        r"the file must be the UCI wine-quality CSV with ';'-separated columns",
        id="comma-separated",
    ),
    pytest.param(
        lambda t: drop_column(t, 7),
        r"{f}: line 1: missing column\(s\) 'density'; expected the columns " + E(FEATURES),
        id="missing-column",
    ),
    pytest.param(
        lambda t: t.replace('"pH"', '"ph"', 1),
        r"{f}: line 1: missing column\(s\) 'pH'; unknown column\(s\) 'ph'; expected the columns "
        + E(FEATURES),
        id="renamed-column",
    ),
    pytest.param(
        lambda t: t.replace('"pH"', '"alcohol"', 1),
        r"{f}: line 1: column 'alcohol' appears more than once",
        id="duplicate-column",
    ),
    pytest.param(
        lambda t: replace_cell(t, 5, 1, "n/a"),
        r"{f}: line 6, column 'volatile acidity': 'n/a' is not a number; every cell must be a "
        r"number",
        id="non-numeric-cell",
    ),
    pytest.param(
        lambda t: replace_cell(t, 9, 10, ""),
        r"{f}: line 10, column 'alcohol': empty cell; every cell must be a number",
        id="empty-cell",
    ),
    pytest.param(
        lambda t: replace_cell(t, 3, 0, "inf"),
        r"{f}: line 4, column 'fixed acidity': 'inf' is not a number; every cell must be a number",
        id="infinite-cell",
    ),
    pytest.param(
        lambda t: replace_cell(t, 7, 11, "5.5"),
        r"{f}: line 8, column 'quality': 5.5 is not a whole number from 0 to 10",
        id="fractional-quality",
    ),
    pytest.param(
        lambda t: replace_cell(t, 7, 11, "11"),
        r"{f}: line 8, column 'quality': 11 is not a whole number from 0 to 10",
        id="quality-out-of-range",
    ),
    pytest.param(
        lambda t: replace_cell(t, 12, 3, "2.1;0.5"),
        r"{f}: line 13 has 13 fields, the header has 12",
        id="extra-field",
    ),
    pytest.param(
        lambda t: _lines(t)[0],
        r"{f}: the file has a header but no data rows",
        id="header-only",
    ),
    pytest.param(
        lambda t: "", r"{f}: the wine file is empty; expected the UCI wine-quality CSV", id="empty"
    ),
    pytest.param(
        lambda t: "<html><body>Service unavailable</body></html>\n",
        r"{f}: line 1 has no ';' \(no separator found; it starts '<html><body>Service.*'\); .*",
        id="html-page",
    ),
    pytest.param(
        lambda t: t.encode("utf-16"),
        r"{f}: not a text file \(byte 0 is not UTF-8\); expected the UCI wine-quality CSV",
        id="utf16",
    ),
]


def write_bad(path: Path, make: Callable[[str], str | bytes]) -> Path:
    content = make(RED_WINE.read_text())
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


@pytest.mark.parametrize(("make", "expected"), DATA_CASES)
def test_bad_wine_file_is_one_line_naming_file_and_line(red_wine, tmp_path, make, expected):
    bad = write_bad(tmp_path / "bad.csv", make)
    with pytest.raises(DataError) as caught:
        read_wine_csv(bad)
    one_line(str(caught.value), expected.replace("{f}", re.escape(str(bad))))


def test_missing_wine_file(tmp_path):
    with pytest.raises(DataError) as caught:
        read_wine_csv(tmp_path / "nope.csv")
    one_line(
        str(caught.value),
        E(f"{tmp_path / 'nope.csv'}: cannot read the wine file (No such file or directory)"),
    )


@pytest.mark.parametrize(
    ("path", "qualities", "rows"),
    [(RED_WINE, (3, 8), 1599), (WHITE_WINE, (3, 9), 4898)],
    ids=["red", "white"],
)
def test_both_uci_files_read_exactly(path, qualities, rows):
    table = read_wine_csv(path)
    with path.open(newline="") as handle:
        reference = [
            [float(v) for v in row.values()] for row in csv.DictReader(handle, delimiter=";")
        ]
    assert table.shape == (rows, 12) and table["quality"].dtype == "int64"
    assert (table["quality"].min(), table["quality"].max()) == qualities
    assert table.to_numpy(float).tolist() == reference


def test_crlf_line_ends_and_a_byte_order_mark_are_fine(tmp_path):
    text = RED_WINE.read_text()
    variant = tmp_path / "windows.csv"
    variant.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    pd.testing.assert_frame_equal(read_wine_csv(variant), read_wine_csv(RED_WINE))


# --- Fetching: (url or path, sha256) -> one line, and no destination file -------------------


class _BrokenHandler(http.server.BaseHTTPRequestHandler):
    """Announces the whole red-wine file, sends half of it and hangs up."""

    def do_GET(self) -> None:
        body = RED_WINE.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def broken_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BrokenHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/winequality-red.csv"
    server.shutdown()


RED_SHA = "4a402cf041b025d4566d954c3b9ba8635a3a8a01e039005d97d6a710278cf05e"


def fetch_cases(wine_server: str, broken_server: str, tmp_path: Path) -> dict:
    """id -> (url, local path, sha256, error type, expected line)."""
    port = closed_port()
    hint = E("; to use a local copy instead, run: snakemake --cores all --config 'wine={path: ")
    hint += r"/path/to/[\w.-]+\}'"
    bad = write_bad(tmp_path / "truncated.csv", truncated)
    return {
        "unreachable-url": (
            f"http://127.0.0.1:{port}/x.csv",
            None,
            RED_SHA,
            DownloadError,
            E(f"wine.url: cannot download http://127.0.0.1:{port}/x.csv (") + r".*refused\)" + hint,
        ),
        "http-404": (
            f"{wine_server}/no-such-file.csv",
            None,
            RED_SHA,
            DownloadError,
            E(f"wine.url: cannot download {wine_server}/no-such-file.csv (HTTP 404 ")
            + r".*\)"
            + hint,
        ),
        "download-broken-off": (
            broken_server,
            None,
            RED_SHA,
            DownloadError,
            E(f"wine.url: the download of {broken_server} broke off after ")
            + r"\d+ bytes, \d+ missing; run again, or to use a local copy instead, run: .*",
        ),
        "checksum-mismatch": (
            f"{wine_server}/{WHITE_WINE.name}",
            None,
            RED_SHA,
            DownloadError,
            E(
                f"wine.sha256: {wine_server}/{WHITE_WINE.name} has sha256 {WHITE_WINE_SHA256}, "
                f"expected {RED_SHA}; the file was not used (fix wine.sha256 if you meant to use "
                "a different file)"
            ),
        ),
        "local-path-missing": (
            "https://unused.invalid/x.csv",
            str(tmp_path / "nope.csv"),
            RED_SHA,
            DownloadError,
            E(
                f"wine.path: {tmp_path / 'nope.csv'} does not exist; give an existing CSV file "
                "(or set wine.path: null to download wine.url)"
            ),
        ),
        "local-path-is-directory": (
            "https://unused.invalid/x.csv",
            str(tmp_path),
            RED_SHA,
            DownloadError,
            E(f"wine.path: {tmp_path} is a directory; give the CSV file"),
        ),
        "checksum-ok-but-truncated": (
            "https://unused.invalid/x.csv",
            str(bad),
            sha256(bad),
            DataError,
            E(f"wine.path {bad}: line 102 has 5 of 12 fields and the file ends without a ")
            + E("newline: the file is truncated; the file was not used"),
        ),
    }


FETCH_IDS = [
    "unreachable-url",
    "http-404",
    "download-broken-off",
    "checksum-mismatch",
    "local-path-missing",
    "local-path-is-directory",
    "checksum-ok-but-truncated",
]


@pytest.mark.parametrize("case", FETCH_IDS)
def test_failed_fetch_is_one_line_and_leaves_no_file(wine_server, broken_server, tmp_path, case):
    url, local, digest, error_type, expected = fetch_cases(wine_server, broken_server, tmp_path)[
        case
    ]
    destination = tmp_path / "results" / "wine.csv"
    with pytest.raises(error_type) as caught:
        fetch_verified(url, local, digest, destination)
    one_line(str(caught.value), expected)
    assert list(destination.parent.iterdir()) == []  # neither the file nor a temporary


@pytest.mark.parametrize(
    ("name", "digest"), [(RED_WINE.name, RED_SHA), (WHITE_WINE.name, WHITE_WINE_SHA256)]
)
def test_fetch_with_the_right_checksum_works(wine_server, tmp_path, name, digest):
    destination = tmp_path / "wine.csv"
    fetch_verified(f"{wine_server}/{name}", None, digest, destination)
    assert destination.read_bytes() == RED_WINE.with_name(name).read_bytes()
    fetch_verified(
        "https://unused.invalid/x.csv", str(RED_WINE.with_name(name)), digest.upper(), destination
    )


# --- How a failing job reports ---------------------------------------------------------------

JOB = """
import sys
from moredata.entry import rule_job

with rule_job(sys.argv[1]):
    {body}
"""


@pytest.mark.parametrize(
    ("body", "message", "traceback"),
    [
        pytest.param(
            "from moredata.wine.data import read_wine_csv; read_wine_csv(sys.argv[2])",
            "{data}: the wine file is empty; expected the UCI wine-quality CSV",
            False,
            id="bad-input",
        ),
        pytest.param(
            "import pandas; pandas.read_parquet(sys.argv[2])",
            "unexpected ArrowInvalid: .* (traceback in {log})",
            True,
            id="library-failure",
        ),
        pytest.param(  # only MoredataErrors are the user's to fix: a package bug is a bug
            "from moredata.depth.network import depth_layer_sizes; depth_layer_sizes(3, 80)",
            "unexpected ValueError: total_units=80 is not divisible by layers=3 .*",
            True,
            id="package-bug",
        ),
    ],
)
def test_a_failing_job_ends_with_one_error_line(tmp_path, body, message, traceback):
    """Bad input gives exactly one line; a failure deep inside a library (a bug) keeps its
    traceback in the log for the developer, but still ends with one line."""
    log, data = tmp_path / "job.log", tmp_path / "empty.csv"
    data.write_text("")
    job = subprocess.run(
        [sys.executable, "-c", JOB.format(body=body), str(log), str(data)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert job.returncode == 1
    expected = E(message.format(data=data, log=log)).replace(E(".*"), ".*")
    for text in (log.read_text(), job.stderr):
        last = text.strip().splitlines()[-1]
        one_line(last.split(" ERROR moredata: ", 1)[1], expected)
    assert ("Traceback" in log.read_text()) == traceback
    assert "Traceback" not in job.stderr


# --- Data faults through the real workflow --------------------------------------------------

WINE_TARGET = "results/unbalanced/figure.png"


def run_failing(workflow: Workflow, *targets: str) -> str:
    result = workflow.run(*(targets or (WINE_TARGET,)), check=False, timeout=300)
    assert result.returncode != 0, result.stderr[-3000:]
    assert not workflow.path("results/unbalanced/figure.png").exists()
    assert not workflow.path("results/unbalanced/summary.csv").exists()
    return result.stderr


@pytest.mark.slow
def test_unreachable_url_fails_the_download(make_workflow):
    port = closed_port()
    workflow = make_workflow({"wine": {"url": f"http://127.0.0.1:{port}/x.csv"}})
    stderr = run_failing(workflow)
    (line,) = set(error_lines(stderr))
    one_line(
        line,
        E(f"wine.url: cannot download http://127.0.0.1:{port}/x.csv (")
        + r".*\); to use a local copy instead, run: \S*snakemake --cores all "
        + r"(--directory \S+ )?(--snakefile \S+ )?--config "
        + E("'wine={path: /path/to/x.csv}'"),
    )
    assert "Traceback" not in stderr
    assert not workflow.path("results/data").exists()


@pytest.mark.slow
def test_checksum_mismatch_leaves_nothing_a_rerun_would_take_as_done(make_workflow, wine_server):
    workflow = make_workflow({"wine": {"url": f"{wine_server}/{WHITE_WINE.name}"}})
    stderr = run_failing(workflow)
    (line,) = set(error_lines(stderr))
    assert line.startswith(f"wine.sha256: {wine_server}/{WHITE_WINE.name} has sha256 ")
    assert not workflow.path("results/data/wine.csv").exists()
    assert workflow.planned_jobs()["download_wine"] == 1  # a rerun tries again


@pytest.mark.slow
@pytest.mark.parametrize(
    ("make", "how", "expected"),
    [
        pytest.param(
            truncated, "path", r"line 102 has 5 of 12 fields .* truncated", id="truncated"
        ),
        pytest.param(
            lambda t: t.replace(";", ","), "url", r"line 1 has no ';' \(.*commas.*", id="commas"
        ),
        pytest.param(
            lambda t: t.replace('"pH"', '"ph"', 1),
            "path",
            r"line 1: missing column\(s\) 'pH'.*",
            id="renamed",
        ),
    ],
)
def test_bad_file_with_matching_checksum_is_not_used(make_workflow, tmp_path, make, how, expected):
    bad = write_bad(tmp_path / "bad.csv", make)
    source = {"path": str(bad)} if how == "path" else {"url": bad.as_uri()}
    workflow = make_workflow({"wine": {**source, "sha256": sha256(bad)}})
    stderr = run_failing(workflow)
    (line,) = set(error_lines(stderr))
    name = f"wine.path {bad}" if how == "path" else f"wine.url {bad.as_uri()}"
    one_line(line, E(f"{name}: ") + expected + E("; the file was not used"))
    assert "Traceback" not in stderr
    assert not workflow.path("results/data/wine.csv").exists()


@pytest.mark.slow
def test_threshold_that_empties_a_class_fails_its_training_job(make_workflow):
    workflow = make_workflow({"unbalanced": {"seeds": [0], "thresholds": [8], "epochs": 1}})
    stderr = run_failing(workflow, "results/unbalanced/summary.csv")
    assert set(error_lines(stderr)) == {
        "unbalanced.thresholds: threshold 8 leaves a class empty (quality in this file ranges "
        "3..8); use thresholds from 3 to 7"
    }
    assert "Traceback" not in stderr
    assert not list(workflow.path("results/unbalanced").rglob("threshold~8*"))


@pytest.mark.slow
def test_white_wine_with_its_own_checksum_runs_end_to_end(make_workflow, wine_server):
    workflow = make_workflow(
        {
            "wine": {"url": f"{wine_server}/{WHITE_WINE.name}", "sha256": WHITE_WINE_SHA256},
            "unbalanced": {"seeds": [0], "thresholds": [8], "epochs": 1},
        }
    )
    workflow.run(WINE_TARGET, timeout=300)
    assert workflow.path(WINE_TARGET).stat().st_size > 0
    prepared = pd.read_parquet(workflow.path("results/data/wine.parquet"))
    assert (prepared["quality"].min(), prepared["quality"].max()) == (3, 9)
    classes = pd.read_parquet(workflow.path("results/unbalanced/classes.parquet"))
    good = classes[(classes["threshold"] == 8) & (classes["class"] == "good")]
    assert int(good["n_train"].iloc[0] + good["n_test"].iloc[0]) == (prepared["quality"] > 8).sum()


# --- Training divergence --------------------------------------------------------------------
# (the unbalanced experiment's, with the key of a threshold override: tests/test_divergence.py)


@pytest.mark.slow
def test_divergence_fails_the_job_then_record_shows_it_in_the_aggregate(make_workflow):
    workflow = make_workflow(
        {"depth": {"seeds": [0], "layers": [1], "n_per_cloud": [30], "learning_rate": 1e6}}
    )
    summary = "results/depth/summary.csv"
    stderr = run_failing(workflow, summary)
    (line,) = set(error_lines(stderr))
    one_line(
        line,
        E("depth layers=1 n=30 seed=0: diverged (non-finite training loss) at epoch 1; lower ")
        + E("depth.learning_rate, or set training.on_divergence: record"),
    )
    assert "Traceback" not in stderr
    for part in ("epochs", "result", "epochs.parquet", "summary.csv"):
        assert not workflow.path(f"results/depth/{part}").exists(), part

    # What the message says to do: record the divergence instead.
    workflow.update_config({"training": {"on_divergence": "record"}})
    result = workflow.run(summary, check=False, timeout=300)
    assert result.returncode == 0, "\n".join(error_lines(result.stderr))
    assert "diverged (non-finite training loss) at epoch 1" in result.stderr
    epochs = pd.read_parquet(workflow.path("results/depth/epochs.parquet"))
    assert epochs["diverged"].all()  # from the first epoch on
    assert (pd.read_csv(workflow.path(summary))["n_diverged"] == 1).all()
