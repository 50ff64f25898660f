"""The errors a user can cause and fix. Each is a :class:`MoredataError` whose message is one
line naming the config key or the file and what is allowed; a rule job reports it as that one
line (:func:`moredata.entry.rule_job`). Any other exception is a bug and gets its traceback."""

from __future__ import annotations


class MoredataError(Exception):
    """Base class of every error caused by the user's config, data or machine."""


class ConfigError(MoredataError):
    """An invalid config value, or values that cannot work together; names the key."""


class DataError(MoredataError):
    """A file (wine CSV, metrics table, checkpoint) that is not what it should be; names it."""


class DownloadError(MoredataError):
    """The source could not be fetched or did not match its checksum."""


class WriteError(MoredataError, OSError):
    """A destination that cannot be written (full disk, no permission, read-only). Also an
    OSError, so that code handling the source's OSErrors can tell the two apart."""


class DivergenceError(MoredataError):
    """A training loss became NaN or infinite and the config says to fail. The trainer names
    the replicate and the epoch; the job layer adds the config key that set the learning
    rate, which the trainer does not know."""

    def __init__(self, replicate: object, epoch: int, message: str) -> None:
        self.replicate = replicate
        self.epoch = epoch  # 1-based
        super().__init__(message)
