"""A newcomer's run of the tiny grid, as the README tells it: the report made with the plain
install's dependencies (no test extras), readable in a browser (landing page, every summary
table as a page, a caption for every entry), the README's ``--directory`` + ``--report``
pattern, and a quiet output when nothing failed. The run is the session's tiny run
(conftest.tiny_run); docs/models.md's ``save_models`` after a finished run is tested on it in
tests/test_workflow.py."""

from __future__ import annotations

import io
import math
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import NEWCOMER_RUN, REPO, TinyRun, newcomer_command
from moredata.registry import EXPERIMENTS
from moredata.report_pages import MISSING, format_number
from moredata.targets import page_file

pytestmark = pytest.mark.slow

# Each report page (rules render_pages_<name>) and the result it shows, from the registry.
PAGES = {
    page_file(page): f"results/{experiment.name}/{page.source}"
    for experiment in EXPERIMENTS
    for page in experiment.products.pages
}
# The report shows these inline; anything else is only a download link there.
VIEWABLE = ("image/png", "image/svg+xml", "image/jpeg", "text/html", "application/pdf")
REQUIRE_BROWSER = "MOREDATA_REQUIRE_BROWSER"


@pytest.fixture(scope="module")
def checkout(tmp_path_factory, tiny_run: TinyRun) -> Path:
    """A checkout's root with the tiny config as config/config.yaml and its finished run in
    runs/tiny (the README's pattern for a run in a directory of its own): a copy of the
    session's tiny run, which this module's reports write into."""
    return tiny_run.copy_root(tmp_path_factory.mktemp("newcomer") / "root")


def run_from_root(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        newcomer_command(*args), cwd=root, capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def finished(tiny_run: TinyRun) -> TinyRun:
    """The tiny run, finished; its output is the newcomer's first look."""
    return tiny_run


@pytest.fixture(scope="module")
def run_dir(checkout) -> Path:
    return checkout / NEWCOMER_RUN


def plain_install_closure(pyproject: Path) -> set[str]:
    """The distributions ``pip install -e .`` brings: the project's dependencies (no extras of
    its own) and theirs, with the extras each asks for, from the installed metadata."""
    requirements = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    seen: set[tuple[str, frozenset[str]]] = set()
    stack = [(Requirement(text).name, frozenset(Requirement(text).extras)) for text in requirements]
    while stack:
        name, extras = stack.pop()
        if (canonicalize_name(name), extras) in seen:
            continue
        seen.add((canonicalize_name(name), extras))
        for text in metadata.distribution(name).requires or []:
            requirement = Requirement(text)
            wanted = requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in {"", *extras}
            )
            if wanted:
                stack.append((requirement.name, frozenset(requirement.extras)))
    return {name for name, _ in seen} | {"moredata"}


# Runs snakemake with every module of a distribution outside the plain install unimportable,
# as on a machine where only `pip install -e .` ran (the test venv also has the test extras).
PLAIN_INSTALL_SNAKEMAKE = """
import importlib.abc, sys
blocked = set(sys.argv.pop(1).split(","))
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (plain install)", name=name)
sys.meta_path.insert(0, NotInstalled())
from snakemake.cli import main
sys.argv[0] = "snakemake"
main()
"""


def test_the_report_needs_only_the_plain_install(checkout, run_dir):
    closure = plain_install_closure(REPO / "pyproject.toml")
    assert "pygments" in closure  # what `snakemake --report` stopped without (issue 22)
    blocked = sorted(
        module
        for module, dists in metadata.packages_distributions().items()
        if not any(canonicalize_name(dist) in closure for dist in dists)
    )
    assert "_pytest" in blocked and "selenium" in blocked  # the test extras are hidden
    command = newcomer_command("--report", "report.html")
    result = subprocess.run(
        [sys.executable, "-c", PLAIN_INSTALL_SNAKEMAKE, ",".join(blocked), *command[1:]],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = (run_dir / "report.html").read_text()
    assert len(report) > 100_000  # figures and pages are embedded
    assert "More on data: a reproducible pipeline" in report  # workflow/report/workflow.rst


def test_the_readme_report_pattern_writes_into_the_run_directory(checkout, run_dir):
    """`--report` after `--directory`: the path is relative to that directory (a path that
    repeats the directory gave a 25-line traceback)."""
    readme = (REPO / "README.md").read_text()
    patterns = re.findall(r"snakemake --directory (\S+) .*--report (\S+)", readme)
    assert patterns
    for directory, report in patterns:
        assert not report.startswith(directory), f"--directory {directory} --report {report}"
    (run_dir / "report.html").unlink(missing_ok=True)
    result = run_from_root(checkout, "--report", "report.html")
    assert result.returncode == 0, result.stderr[-4000:]
    assert (run_dir / "report.html").stat().st_size > 100_000
    assert not (checkout / "report.html").exists()


def test_a_successful_run_prints_no_error_like_line(finished):
    output = finished.stdout + finished.stderr
    assert "Shell command" not in output  # printshellcmds would print "Shell command: None"
    scary = [line for line in output.splitlines() if re.search(r"error|fail|traceback", line, re.I)]
    assert scary == []


# --- The report in a browser -----------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium (the distribution's chromium and chromedriver) driven by selenium."""
    missing = [name for name in ("chromium", "chromedriver") if shutil.which(name) is None]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium (pip install -e '.[test]')")
    if missing:
        needs = ", ".join(missing)
        message = f"the browser check needs {needs} (apt-get install chromium chromium-driver)"
        if os.environ.get(REQUIRE_BROWSER):
            pytest.fail(f"{message}; {REQUIRE_BROWSER} is set")
        pytest.skip(f"{message}; set {REQUIRE_BROWSER}=1 to fail instead")
    options = Options()
    options.binary_location = shutil.which("chromium")
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.implicitly_wait(30)  # generous: CI machines are shared and slow at times
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def report_page(browser, checkout, run_dir):
    report = run_dir / "report.html"
    if not report.is_file():
        result = run_from_root(checkout, "--report", "report.html")
        assert result.returncode == 0, result.stderr[-4000:]
    browser.get(report.as_uri())
    return browser


def report_entries(driver) -> dict[str, dict]:
    """Path -> {mime, caption, category, label} of every result of the open report (label:
    the text its row shows, its title, or its file name when it has none)."""
    return driver.execute_script(
        """
        const category = {};
        for (const [name, subcategories] of Object.entries(categories))
            for (const paths of Object.values(subcategories))
                for (const path of paths) category[path] = name;
        return Object.fromEntries(Object.entries(results).map(([path, r]) => [
            path, {mime: r.mime_type, caption: r.caption, category: category[path],
                   label: Object.values(r.labels || {}).join(" ") || path}]));
        """
    )


def test_every_report_entry_has_a_caption_and_every_table_a_page(report_page):
    from selenium.webdriver.common.by import By

    entries = report_entries(report_page)
    assert set(PAGES) <= set(entries)
    for path, entry in entries.items():
        text = re.sub(r"<[^>]+>", "", entry["caption"] or "").strip()
        assert len(text) > 40, f"{path} has no caption"
        if entry["mime"] not in VIEWABLE:
            # Only a download in the report: a page of the same data must sit beside it.
            assert any(
                source == path and entries[page]["category"] == entry["category"]
                for page, source in PAGES.items()
            ), f"{path} ({entry['mime']}) cannot be read in the report"
    body = report_page.find_element(By.TAG_NAME, "body").text
    assert "More on data: a reproducible pipeline" in body  # the landing page's description


def click(driver, xpath: str) -> None:
    """Click the element at ``xpath`` once it takes the click: the report's menu slides in
    (a CSS transition), so a click during the slide lands on what is still on top, and React
    may replace the element between finding and clicking it."""
    from selenium.common.exceptions import (
        ElementClickInterceptedException,
        StaleElementReferenceException,
    )
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    def clicked(driver) -> bool:
        driver.find_element(By.XPATH, xpath).click()
        return True

    retried = [ElementClickInterceptedException, StaleElementReferenceException]
    WebDriverWait(driver, 20, ignored_exceptions=retried).until(clicked)


def open_result(driver, category: str, label: str) -> None:
    """Click the category in the menu and the eye of the result's row: what a reader does.
    (The landing page links each category too; the menu's entry comes first.)"""
    click(driver, f"(//a[normalize-space()='{category}'])[1]")
    click(driver, f"//tr[td[normalize-space()={xpath_string(label)}]]//a[@iconname='eye']")


def xpath_string(text: str) -> str:
    """``text`` as an XPath 1.0 string literal (titles may hold either quote)."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    parts = ', "\'", '.join(f"'{part}'" for part in text.split("'"))
    return f"concat({parts})"


def dark_fraction(png: bytes) -> float:
    """Share of dark pixels in a screenshot: text and rules, not a blank area."""
    import matplotlib.image

    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3]
    return float((pixels.mean(axis=2) < 0.5).mean())


def expected_cell(value) -> str:
    if isinstance(value, float):
        return format_number(value) if not math.isnan(value) else MISSING
    return str(value)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_each_table_is_visible_in_the_report(report_page, run_dir, page, tmp_path):
    from selenium.webdriver.common.by import By

    driver = report_page
    entry = report_entries(driver)[page]
    driver.get((run_dir / "report.html").as_uri())
    open_result(driver, entry["category"], entry["label"])
    frame = driver.find_element(By.TAG_NAME, "iframe")
    assert frame.is_displayed(), "the page's frame is hidden"
    assert frame.size["width"] > 600 and frame.size["height"] > 400, frame.size
    driver.save_screenshot(str(tmp_path / "report.png"))  # kept for a look when this fails
    driver.switch_to.frame(frame)
    try:
        source = run_dir / PAGES[page]
        if source.suffix == ".csv":
            element = driver.find_element(By.TAG_NAME, "table")
            shown = driver.execute_script(
                "return Array.from(arguments[0].rows, r => Array.from(r.cells, c => c.innerText))",
                element,
            )
            table = pd.read_csv(source)
            assert shown[0] == list(table.columns)
            assert shown[1:] == [
                [expected_cell(value) for value in row] for row in table.itertuples(index=False)
            ]
        else:
            element = driver.find_element(By.TAG_NAME, "body")
            text = element.text
            for line in source.read_text().splitlines():
                words = re.sub(r"^[#\s-]+|`", "", line).strip()
                assert words in text, f"{words!r} not shown"
            assert "##" not in text and "`" not in text  # rendered, not raw Markdown
        # Visible, not only in the DOM: nothing covers the first cell, and the screenshot of
        # the element has text on it.
        first = element.find_element(By.CSS_SELECTOR, "td, li")
        assert driver.execute_script(
            "const r = arguments[0].getBoundingClientRect();"
            "const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
            "return arguments[0].contains(top);",
            first,
        ), "the first cell is hidden"
        shown_dark = dark_fraction(element.screenshot_as_png)
        assert shown_dark > 0.01, f"the screenshot is blank ({shown_dark:.4f} dark)"
    finally:
        driver.switch_to.default_content()
