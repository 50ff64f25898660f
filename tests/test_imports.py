"""Each rule script runs exactly the package modules its rule's code digest covers (found here
independently, by importing the script's entry points in a fresh interpreter and reading
``sys.modules``), and a job that trains nothing imports no torch."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from moredata.codedigest import module_closure

SCRIPTS = REPO / "scripts"
PROBE = """
import json, sys
for statement in sys.argv[1:]:
    exec(statement)
package = sorted(m for m in sys.modules if m == "moredata" or m.startswith("moredata."))
print(json.dumps({"package": package, "torch": "torch" in sys.modules}))
"""


def entry_imports(script: Path) -> list[str]:
    """The script's import statements of the package (outside and inside its job body)."""
    tree = ast.parse(script.read_text())
    return [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("moredata")
    ]


@pytest.mark.parametrize("script", sorted(SCRIPTS.glob("*.py")), ids=lambda p: p.stem)
def test_a_job_imports_what_its_digest_covers_and_torch_only_to_train(script):
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, *entry_imports(script)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = json.loads(probe.stdout)
    assert loaded["package"] == module_closure(script, SCRIPTS / "moredata")
    # The scripts that set torch's threads are the ones that need it.
    assert loaded["torch"] == ("uses_torch=True" in script.read_text()), script.name
