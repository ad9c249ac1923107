"""The kit's own cache folder: what a command caches when it is not told where (features of `measure`, the
region proposals and tracks of the Region Tracker), outside any checkout and shared by every run of this user.

`$SSL_KIT_CACHE` when set, else `$XDG_CACHE_HOME/ssl_kit`, else `~/.cache/ssl_kit` (the XDG convention Linux
tools follow; on macOS and Windows the same folder under the home directory).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "SSL_KIT_CACHE"


def user_cache(*parts: str) -> Path:
    """`<the kit's cache folder>/<parts...>` (not created)."""
    if os.environ.get(ENV):
        base = Path(os.environ[ENV]).expanduser()
    elif os.environ.get("XDG_CACHE_HOME"):
        base = Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "ssl_kit"
    else:
        base = Path.home() / ".cache" / "ssl_kit"
    return base.joinpath(*parts)
