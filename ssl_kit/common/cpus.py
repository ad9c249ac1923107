"""How many CPUs this process may use, and counts of processes held within it: more worker or job processes than
CPUs only make them wait for each other (and each loads its own copy of torch)."""

from __future__ import annotations

import os
import warnings


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity where the OS has one, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity on this OS
        return max(1, os.cpu_count() or 1)


def within_cpus(n: int, what: str) -> int:
    """`n` processes, or this machine's CPU count when `n` is more, with a warning naming both numbers."""
    cpus = available_cpus()
    if n > cpus:
        warnings.warn(f"{what} {n} is more than this machine's {cpus} CPUs: using {cpus}", stacklevel=2)
        return cpus
    return n
