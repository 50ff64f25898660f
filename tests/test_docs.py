"""The README and docs/: the README stays short, every link resolves, nothing points to a file
outside the repository, and the Quick start's commands work as printed on a fresh machine
(run here with stand-ins for pip, snakemake and pytest that record how they were called)."""

from __future__ import annotations

import re
import shlex
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import REPO

README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def test_the_readme_is_at_most_15_kb():
    assert len(README.read_bytes()) <= 15_000


def anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M)
    return {anchor(m) for m in re.findall(r"^#+ (.+)$", text, flags=re.M)}


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda p: p.name)
def test_every_relative_link_resolves(page):
    text = page.read_text()
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    for link in links:
        if re.match(r"[a-z]+://", link):
            continue
        target, _, fragment = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        assert path.exists(), f"{page.name}: {link} does not exist"
        assert REPO in path.parents or path == REPO, f"{page.name}: {link} leaves the repository"
        if fragment and path.suffix == ".md":
            assert fragment in anchors(path), f"{page.name}: {link}: no such heading"


def test_the_docs_are_linked_from_the_readme_or_each_other():
    linked = {
        (page.parent / link.partition("#")[0]).resolve()
        for page in [README, *DOCS]
        for link in re.findall(r"\]\(([^)#\s]+)", page.read_text())
    }
    orphans = [doc.name for doc in DOCS if doc not in linked and not doc.name.startswith("NOTES-")]
    assert orphans == []


def test_no_tracked_file_points_to_a_file_outside_the_repository():
    """The course's reference notes are not in the repository: a pointer to them is a dead end
    (name the course or its lecture instead)."""
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.split(b"\0")
    pointer = re.compile(rb"REFERENCE(\.md| \xc2\xa7)")  # "REFERENCE.md", "REFERENCE" + section
    offenders = [
        name.decode()
        for name in names
        if name
        and (REPO / name.decode()).is_file()
        and pointer.search((REPO / name.decode()).read_bytes())
        and name.decode() != "tests/test_docs.py"
    ]
    assert offenders == []


def quick_start_blocks() -> list[list[str]]:
    """The lines of each bash block of the README's Quick start."""
    section = README.read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```bash\n(.*?)^```", section, flags=re.S | re.M)
    return [[line for line in block.splitlines() if line.strip()] for block in blocks]


def stand_in(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def fresh_machine(tmp_path) -> tuple[Path, dict[str, str], Path]:
    """A checkout, and a PATH that has python3.11 but no venv, pip, snakemake or pytest: its
    python3.11 makes a real venv (without pip, so nothing is downloaded) whose pip records
    its arguments and, installing the project, puts recording snakemake and pytest beside it."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    calls = tmp_path / "calls.log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = f'echo "$(basename "$0") $0 $*" >> {calls}'
    tool = f"#!/bin/bash\n{record}\n"
    pip = (
        f"{record}\n"
        'if [[ " $* " == *" -e "* ]]; then\n'
        "  for name in snakemake pytest; do\n"
        f'    printf %s {shlex.quote(tool)} > "$(dirname "$0")/$name"\n'
        '    chmod +x "$(dirname "$0")/$name"\n'
        "  done\n"
        "fi"
    )
    stand_in(
        bin_dir / "python3.11",
        f'[ "$1 $2" = "-m venv" ] || exit 2\n'
        f'{sys.executable} -m venv --without-pip "$3" || exit 1\n'
        f'printf %s {shlex.quote("#!/bin/bash" + chr(10) + pip + chr(10))} > "$3/bin/pip"\n'
        'chmod +x "$3/bin/pip"',
    )
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    return checkout, env, calls


@pytest.mark.parametrize("index", [0, 1], ids=["run", "test"])
def test_the_quick_start_works_as_printed(fresh_machine, index):
    checkout, env, log = fresh_machine
    lines = quick_start_blocks()[index]
    script = "set -e\n" + "\n".join(lines) + "\n"
    result = subprocess.run(
        ["bash", "-c", script], cwd=checkout, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    # Each call: the tool, the path it ran from, its arguments.
    calls = [line.split() for line in log.read_text().splitlines()]
    venv_bin = checkout / ".venv" / "bin"
    # pip: torch from PyTorch's CPU index with the project's own pin, then the project.
    pins = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    (torch_pin,) = [pin for pin in pins if pin.startswith("torch")]
    assert calls[0][0] == "pip" and (checkout / calls[0][1]).parent == venv_bin
    assert calls[0][2:] == ["install", torch_pin, "--index-url", CPU_INDEX]
    assert calls[1][0] == "pip" and calls[1][2:4] == ["install", "-e"]
    # The last command runs the venv's own tool, as printed (a bare name found on PATH).
    tool = ("snakemake", "pytest")[index]
    assert lines[-1].split()[0] == tool
    assert calls[-1][0] == tool and (checkout / calls[-1][1]).parent == venv_bin
    assert calls[-1][2:] == lines[-1].split()[1:]


def test_the_cpu_install_comes_first_and_cuda_is_a_choice():
    text = README.read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    for block in quick_start_blocks():
        installs = [line for line in block if " install " in line]
        assert CPU_INDEX in installs[0]
    assert "CUDA" in quick


def ci_commands() -> list[list[str]]:
    """The install and test commands of .ci/run, as words (continuation lines joined; an
    ``if ! ...; then`` taken as its command), without pip's quiet flag and its network
    settings (``--timeout``, ``--retries``)."""
    text = (REPO / ".ci" / "run").read_text().replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        line = re.sub(r"^\s*if ! (.*); then$", r"\1", line).strip()
        words = shlex.split(line) if line and not line.startswith("#") else []
        if not words or not re.match(r"(python3\.11|\.venv/bin/)", words[0]):
            continue
        kept, skip = [], 0
        for word in words:
            if skip:
                skip -= 1
            elif word in ("--timeout", "--retries"):
                skip = 1
            elif word != "-q":
                kept.append(word)
        commands.append(kept)
    return commands


def test_ci_runs_the_readme_test_command_with_a_fallback_for_torch():
    """.ci/run is the README's test block (its tools called from the venv), except that
    torch's install from PyTorch's CPU index is tried once, briefly, and falls back to the same
    pin from pip's own sources (an offline CI machine has the wheel there)."""
    readme = [
        shlex.split(line) for line in quick_start_blocks()[1] if not line.startswith("source")
    ]
    readme = [[".venv/bin/pytest", *w[1:]] if w[0] == "pytest" else w for w in readme]
    ci = ci_commands()
    torch = readme[1]
    assert torch[-2:] == ["--index-url", CPU_INDEX]
    fallback = torch[:-2]
    assert ci == [readme[0], torch, fallback, *readme[2:]]
    run = (REPO / ".ci" / "run").read_text().replace("\\\n", " ")
    (line,) = [line for line in run.splitlines() if CPU_INDEX in line]
    assert "--retries 0" in line and re.search(r"--timeout \d+\b", line)
