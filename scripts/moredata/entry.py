"""Shared plumbing of the rule scripts: logging to the rule's log file, the torch thread
count from the rule's ``threads``, and expected errors turned into one clear line."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

log = logging.getLogger("moredata")

# Errors caused by the user's input or data: reported as one line, not a traceback.
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (ValueError, RuntimeError, OSError, KeyError)


def paths(output: str | Iterable[str]) -> list[str]:
    """A named rule input/output as a list of paths (Snakemake gives one path as a str)."""
    return [output] if isinstance(output, str) else list(output)


@contextmanager
def rule_job(log_path: str, threads: int = 1, uses_torch: bool = False) -> Iterator[logging.Logger]:
    """Run a rule's body with logging to ``log_path`` (and stderr) and a clean failure mode."""
    file_handler = logging.FileHandler(log_path, mode="w")
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[file_handler, logging.StreamHandler()],
        force=True,
    )
    logging.captureWarnings(True)
    if uses_torch:
        import torch

        torch.set_num_threads(threads)
        torch.set_num_interop_threads(threads)
        log.info("torch %s with %d thread(s)", torch.__version__, threads)
    try:
        yield log
    except EXPECTED_ERRORS as error:
        file_handler.stream.write(traceback.format_exc())  # details for the log file only
        log.error("%s", str(error).splitlines()[0] if str(error) else type(error).__name__)
        sys.exit(1)
