"""Check config files before Snakemake reads them:

    PYTHONPATH=scripts python -m moredata.config my.yaml && snakemake --configfile my.yaml

Snakemake parses a ``--configfile`` (and the Snakefile's ``configfile:``) before the workflow's
own checks run, and ends in a traceback of its own on a file that is not UTF-8 or is nested
thousands of levels deep. This runs the workflow's file check (:func:`check_config_files`)
alone: one line naming the file and what is wrong, exit status 1; nothing on success."""

from __future__ import annotations

import argparse
import sys

from moredata.config.files import check_config_files
from moredata.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m moredata.config", description=__doc__.splitlines()[0]
    )
    parser.add_argument("files", nargs="+", help="config files, as given to --configfile")
    args = parser.parse_args(argv)
    try:
        check_config_files(args.files)
    except (ConfigError, OSError) as error:
        print(
            error if isinstance(error, ConfigError) else f"{error.filename}: {error.strerror}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
