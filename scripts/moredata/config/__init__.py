"""Validation of the workflow config, each failure one line that names the key (or file and
line) and what is allowed. Shared here, one module per job: the schema as data
(:mod:`.schema`), its messages (:mod:`.messages`), ``--config`` values (:mod:`.cli`), config
files as written (:mod:`.files`), numbers (:mod:`.numbers`) and the whole check
(:mod:`.validate`). Each experiment's own cross-key rules are its recipe's ``check_config``
(with the rules several share, :mod:`moredata.crosskeys`, outside this package: a training
job imports them, and its code digest must not change with a message of the config check)."""

from moredata.config.cli import check_command_line, coerce_command_line
from moredata.config.files import MAX_DEPTH, MAX_VALUES, check_config_files
from moredata.config.messages import schema_error_line
from moredata.config.numbers import check_numbers
from moredata.config.schema import SCHEMA_PATH, key_name, load_schema, resolve
from moredata.config.validate import experiment_recipes, validate_config
from moredata.errors import ConfigError

__all__ = [
    "MAX_DEPTH",
    "MAX_VALUES",
    "SCHEMA_PATH",
    "ConfigError",
    "check_command_line",
    "check_config_files",
    "check_numbers",
    "coerce_command_line",
    "experiment_recipes",
    "key_name",
    "load_schema",
    "resolve",
    "schema_error_line",
    "validate_config",
]
