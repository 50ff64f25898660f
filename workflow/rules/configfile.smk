# The config file that the Snakefile's configfile: reads, checked before Snakemake's YAML
# reader sees it: that reader ends in a traceback of its own on a file that is not UTF-8 or is
# nested thousands of levels deep. Here such a file is one line naming it (a --configfile is
# read before any of the workflow runs: docs/NOTES-config.md gives the command that checks it).
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

sys.path.insert(0, str(Path(workflow.basedir).parent / "scripts"))

from moredata.config import check_config_files
from moredata.errors import ConfigError

CONFIGFILE = "config/config.yaml"

if Path(CONFIGFILE).is_file():
    try:
        check_config_files([CONFIGFILE])
    except ConfigError as error:
        raise WorkflowError(str(error)) from None
