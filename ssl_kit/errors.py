"""Errors that name the file, the field and what was expected."""

from __future__ import annotations

from pathlib import Path


class SSLKitError(Exception):
    """Base class for every error ssl_kit raises on purpose."""


class DataError(SSLKitError, ValueError):
    """A file or folder on disk is missing, corrupt or not in the expected layout."""

    def __init__(self, path: str | Path, problem: str, expected: str | None = None):
        self.path = Path(path)
        self.problem = problem
        self.expected = expected
        msg = f"{self.path}: {problem}"
        if expected:
            msg += f" (expected {expected})"
        super().__init__(msg)


class CorruptImageError(DataError):
    """An image file that cannot be decoded."""


class IncompleteSetError(DataError):
    """A world set whose build did not finish (no manifest, or an `.incomplete` marker)."""


class UntrustedCheckpointError(DataError):
    """A checkpoint that holds more than weights (pickled objects, whose loading runs code), refused unless
    trusted (`--trust-checkpoint`, `trust=True`)."""


class DiskFullError(DataError):
    """A write that stopped because the disk is full (`ssl_kit.common.writable.disk_full`)."""


class ConfigError(SSLKitError, ValueError):
    """A bad option: unknown preset, method, policy, or an inconsistent value."""


class NonFiniteFeatures(SSLKitError, ValueError):
    """A network whose features are NaN or infinite (a run that diverged, or weights that overflow): nothing
    can be scored on them."""
