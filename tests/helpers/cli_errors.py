"""What a command printed on stderr when it refused: its `error: ...` line."""

from __future__ import annotations


def error_line(capsys, only: bool = False) -> str:
    """The last non-empty stderr line, which must be the command's `error: ...` line; with `only`, it must also
    be the one line printed (no warning, no traceback before it)."""
    err = [line for line in capsys.readouterr().err.strip().splitlines() if line.strip()]
    assert err and err[-1].startswith("error: ") and (len(err) == 1 or not only), err
    return err[-1]
