"""What the cluster tests say in the log (`make test-cluster` runs pytest with -s), and how they give up."""

from __future__ import annotations

import os

import pytest


def say(line: str) -> None:
    """A line for the log: what a cluster test did (cluster started, cells run, requeue, records equal)."""
    print(f"\n[cluster] {line}", flush=True)


def unavailable(why: str):
    """Skip with the reason, except under CI (`CI` set), where it fails: CI cannot pass by skipping."""
    if os.environ.get("CI"):
        pytest.fail(f"{why} (CI must run the cluster tests)")
    pytest.skip(why)
