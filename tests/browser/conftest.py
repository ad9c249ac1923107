"""Browser tests: a JupyterLab server on localhost and Debian's Chromium driven by Playwright.

Run them with `make test-browser` (installs Chromium and playwright if missing) or
`.venv/bin/pytest -m browser tests/browser`; `make test` and plain `pytest` leave them out (pyproject.toml's
addopts deselect the `browser` marker). Without /usr/bin/chromium or the playwright package the tests skip,
except under CI (the `CI` environment variable set), where they fail: CI cannot pass by skipping them.
Playwright never downloads a browser here: it drives the Chromium given by `SSL_KIT_CHROMIUM`
(default /usr/bin/chromium).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SSL_KIT_CHROMIUM", "/usr/bin/chromium")
# The flags Chromium needs on a machine with no network but the package registries (no background
# connections, no first-run or sync), run as root in a container (no sandbox), with no GPU.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS_ENV = "SSL_KIT_ARTIFACTS"  # a folder to copy screenshots to, when set
SERVER_START_TIMEOUT = 120  # seconds

_screenshots: list[Path] = []


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require(condition: bool, reason: str) -> None:
    """Skip when `condition` is false, except in CI, where a missing browser or driver fails the test."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI is set: browser tests must not be skipped; run `make test-browser`)")
    pytest.skip(f"{reason}; `make test-browser` installs it")


@pytest.fixture(scope="session")
def chromium() -> dict:
    """Keyword arguments for Playwright's `chromium.launch` / `launch_persistent_context`: Debian's Chromium,
    headless, with CHROMIUM_FLAGS; checks first that Chromium and the playwright package are there."""
    require(Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK), f"no Chromium at {CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require(False, "the Python package `playwright` is not installed (pip install -e '.[browser]')")
    return {"executable_path": CHROMIUM, "headless": True, "args": list(CHROMIUM_FLAGS)}


def _report_screenshot(path: Path) -> Path:
    """Remember `path` for the terminal summary and copy it to $SSL_KIT_ARTIFACTS when that is set."""
    _screenshots.append(path)
    folder = os.environ.get(ARTIFACTS_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        copy = Path(folder) / path.name
        shutil.copy2(path, copy)
        _screenshots.append(copy)
    return path


@pytest.fixture
def report_screenshot():
    """`report_screenshot(path)`: list `path` in the terminal summary, copy it to $SSL_KIT_ARTIFACTS if set."""
    return _report_screenshot


def pytest_terminal_summary(terminalreporter):
    if _screenshots:
        terminalreporter.section("browser screenshots")
        for path in _screenshots:
            terminalreporter.write_line(str(path))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class JupyterLab:
    url: str  # http://127.0.0.1:PORT
    token: str
    root: Path  # the server's root_dir: notebooks are opened relative to it
    log: Path

    def lab_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


# JupyterLab settings for a quiet, deterministic page: every cell attached to the DOM (so the whole notebook can
# be waited on and photographed), no news or update checks (no requests beyond localhost).
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM (the server shuts its kernels down), then SIGKILL to the server's own process group."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:  # kernels left behind by a server that died: they share its process group (start_new_session)
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait(timeout=10)


@pytest.fixture
def jupyter_lab(tmp_path: Path):
    """A JupyterLab server on 127.0.0.1 (a free port, a random token), serving `tmp_path / "lab"`.

    Its configuration, data, runtime, settings and workspaces live under `tmp_path / "jupyter"`, so nothing of
    the user's Jupyter setup is read or written; the kernel is the `python3` kernel of this environment.
    """
    root = tmp_path / "lab"
    home = tmp_path / "jupyter"
    root.mkdir()
    settings = home / "lab-settings"
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTER_PLATFORM_DIRS": "1",
    }
    port, token = free_port(), secrets.token_hex(16)
    log = tmp_path / "jupyterlab.log"
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.open_browser=False",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.allow_root=True",  # CI runs as root
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    lab = JupyterLab(f"http://127.0.0.1:{port}", token, root, log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {proc.returncode}:\n{lab.log_tail()}")
            try:
                with urllib.request.urlopen(f"{lab.url}/api/status?token={token}", timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {SERVER_START_TIMEOUT} s:\n{lab.log_tail()}")
            time.sleep(0.5)
        yield lab
    finally:
        _stop(proc)
