"""Shared plumbing of the rule scripts: logging to the rule's log file, the torch thread
count from the rule's ``threads``, and every error turned into one clear last line."""

from __future__ import annotations

import errno
import json
import logging
import os
import shlex
import shutil
import sys
import tempfile
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from moredata.errors import MoredataError, WriteError

log = logging.getLogger("moredata")

DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
# The words that start this run again (program, working directory, config files, --config
# entries), set by the Snakefile in the main Snakemake process for its jobs (subprocesses).
INVOCATION_ENV = "MOREDATA_INVOCATION"
# Set to 1 to get the traceback of expected errors in the job's log as well.
DEBUG_ENV = "MOREDATA_DEBUG"
# Every line names its job (parallel jobs' lines interleave on the terminal): the rule and
# its wildcards, e.g. "[train_depth layers~5_n~200_seed~all]" (see :func:`job_name`).
LOG_FORMAT = "%(asctime)s [%(job)s] %(levelname)s %(name)s: %(message)s"
LOGS = "logs"


def job_name(log_path: str | Path) -> str:
    """The job a log belongs to, from its path (``logs/<rule>[/<wildcards>...].log``, as every
    rule names its log): ``train_depth layers~5_n~200_seed~all``; ``prepare_wine``."""
    parts = list(Path(log_path).with_suffix("").parts)
    if LOGS in parts:
        parts = parts[len(parts) - parts[::-1].index(LOGS) :]
    return " ".join([parts[0], "/".join(parts[1:])] if len(parts) > 1 else parts)


class _JobFilter(logging.Filter):
    """Adds the job's name to every record (the ``%(job)s`` of :data:`LOG_FORMAT`)."""

    def __init__(self, job: str) -> None:
        super().__init__()
        self.job = job

    def filter(self, record: logging.LogRecord) -> bool:
        record.job = self.job
        return True


def paths(output: str | Iterable[str]) -> list[str]:
    """A named rule input/output as a list of paths (Snakemake gives one path as a str)."""
    return [output] if isinstance(output, str) else list(output)


def named_outputs(output: Any) -> dict[str, list[str]]:
    """A rule's named outputs (``snakemake.output``) as name -> list of paths."""
    return {name: paths(value) for name, value in output.items()}


def error_line(error: BaseException) -> str:
    """The first line of an error's message (its type name if it has none)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def invocation(
    argv: list[str],
    workdir: str | Path,
    configfiles: Iterable[str | Path] = (),
    config_args: Iterable[str] = (),
    snakefile: str | Path | None = None,
    started_in: str | None = None,
) -> list[str]:
    """The words that start a run like this one again: the program as it was called
    (``argv[0]``: ``snakemake`` when that is what PATH finds, else the path as typed, e.g.
    ``.venv/bin/snakemake``), ``--cores all``, the working directory when it is not where the
    run was started (``started_in``, the shell's ``PWD``), the Snakefile if one was named, the
    config files and the ``--config`` entries, which must stay last."""
    program = argv[0] if argv else "snakemake"
    name = Path(program).name
    if Path(program).parts[-2:] == ("snakemake", "__main__.py"):  # python -m snakemake
        words = [sys.executable, "-m", "snakemake"]
    elif "/" not in program or _same_file(shutil.which(name), program):
        words = [name]
    else:
        words = [program]
    words += ["--cores", "all"]
    workdir = Path(workdir).absolute()
    if started_in is None or not _same_file(started_in, workdir):
        words += ["--directory", str(workdir)]
    if snakefile is not None:
        words += ["--snakefile", str(Path(snakefile).absolute())]
    files = [str(Path(path).absolute()) for path in configfiles]
    if files:
        words += ["--configfile", *files]
    entries = list(config_args)
    if entries:
        words += ["--config", *entries]
    return words


def _same_file(a: str | Path | None, b: str | Path) -> bool:
    try:
        return a is not None and os.path.samefile(a, b)
    except OSError:
        return False


def remember_invocation(workflow: Any, argv: list[str] | None = None) -> None:
    """Called by the Snakefile (the main Snakemake process, in its working directory): keep
    how this run was started, read from ``sys.argv`` and Snakemake's ``workflow`` object, in
    the environment that its jobs inherit, so that a job prints commands complete for it."""
    if not getattr(workflow, "is_main_process", True):
        return  # a job's own Snakemake process (cluster, subprocess): keep the main one's
    argv = sys.argv if argv is None else argv
    program = Path(argv[0]) if argv else Path()
    if program.name != "snakemake" and program.parts[-2:] != ("snakemake", "__main__.py"):
        return  # run through Snakemake's API by another program: no command to repeat
    settings = getattr(workflow, "config_settings", None)
    named = any(word in ("-s", "--snakefile") or word.startswith("--snakefile=") for word in argv)
    words = invocation(
        argv,
        Path.cwd(),
        getattr(workflow, "overwrite_configfiles", None) or (),
        getattr(settings, "config_args", None) or (),
        getattr(workflow, "main_snakefile", None) if named else None,
        os.environ.get("PWD"),
    )
    os.environ[INVOCATION_ENV] = json.dumps(words)


def rerun_command(*config_entries: str) -> str:
    """The shell command that runs this run again with ``config_entries`` (``key=value``)
    added to its ``--config``; every word shell-quoted (:func:`shlex.join`)."""
    try:
        words = json.loads(os.environ.get(INVOCATION_ENV, ""))
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise ValueError
    except ValueError:
        words = invocation(["snakemake"], Path.cwd(), started_in=str(Path.cwd()))
    if config_entries and "--config" not in words:
        words = [*words, "--config"]
    return shlex.join([*words, *config_entries])


def check_writable(folder: str | Path) -> None:
    """Raise a one-line :class:`WriteError` if files cannot be created in ``folder`` (or,
    while it does not exist, in its nearest existing parent, where it would be created)."""
    target = Path(folder)
    while not target.exists() and target != target.parent:
        target = target.parent
    try:
        # A real file, not os.access: permissions are not the only way to be refused
        # (read-only mounts, root squash, ACLs).
        with tempfile.TemporaryFile(dir=target):
            pass
    except OSError as error:
        raise WriteError(
            f"cannot write {target}/: {error.strerror}; every job writes its log under "
            f"{folder}/ (make it writable, e.g. chmod u+w {shlex.quote(str(target))})"
        ) from None


@contextmanager
def rule_job(log_path: str, threads: int = 1, uses_torch: bool = False) -> Iterator[logging.Logger]:
    """Run a rule's body with logging to ``log_path`` (and stderr) and a clean failure mode:
    any error ends the job with exit status 1 and one ERROR line as the log's last line.
    A :class:`MoredataError` (bad config, data or machine state) gets only that line; anything
    else is a bug and also gets its traceback, written to the log."""
    named = _JobFilter(job_name(log_path))
    try:
        file_handler = logging.FileHandler(log_path, mode="w")
    except OSError as error:
        # No log file to end with the ERROR line: stderr (which Snakemake shows) gets it.
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, force=True)
        logging.getLogger().handlers[0].addFilter(named)
        log.error("cannot write the job's log %s: %s", log_path, error.strerror)
        sys.exit(1)
    handlers: list[logging.Handler] = [file_handler, logging.StreamHandler()]
    for handler in handlers:
        handler.addFilter(named)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, handlers=handlers, force=True)
    logging.captureWarnings(True)
    try:
        if uses_torch:
            import torch

            torch.set_num_threads(threads)
            torch.set_num_interop_threads(threads)
            log.info("torch %s with %d thread(s)", torch.__version__, threads)
        yield log
    except Exception as error:
        expected = isinstance(error, MoredataError)
        if not expected and isinstance(error, OSError) and error.errno in DISK_ERRNOS:
            # A full or read-only disk is the machine's state, not a bug: one line, anywhere
            # (os.strerror: a library's OSError may carry the errno with a text of its own, and
            # no file name).
            where = error.filename or "a file"
            expected, error = True, WriteError(f"cannot write {where}: {os.strerror(error.errno)}")
        if not expected or os.environ.get(DEBUG_ENV):
            file_handler.stream.write(traceback.format_exc())
            file_handler.flush()
        if expected:
            log.error("%s", error_line(error))
        else:
            log.error(
                "unexpected %s: %s (traceback in %s)",
                type(error).__name__,
                error_line(error),
                log_path,
            )
        sys.exit(1)
