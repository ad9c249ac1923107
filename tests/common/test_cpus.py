"""Process counts held within the machine: more job or loader processes than CPUs are cut to the CPUs, with a
warning that names both numbers; the flags and the environment variable refuse what is not a count."""

from __future__ import annotations

import pytest

import ssl_kit.common.cpus as cpus
from ssl_kit.cli import main
from ssl_kit.common.cpus import available_cpus, within_cpus


def test_more_processes_than_cpus_are_cut_to_the_cpus_with_a_warning(monkeypatch):
    assert available_cpus() >= 1
    monkeypatch.setattr(cpus, "available_cpus", lambda: 2)
    assert within_cpus(2, "--jobs") == 2
    with pytest.warns(UserWarning, match="--workers 500 is more than this machine's 2 CPUs: using 2"):
        assert within_cpus(500, "--workers") == 2


@pytest.mark.parametrize("jobs", ["0", "-3"])
def test_jobs_below_one_are_refused_in_one_line(jobs, capsys, tmp_path):
    assert main(["sweep", "--grid", "augmentation_ablations", "--jobs", jobs, "--world", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert f"jobs must be a whole number of at least 1, not {jobs}" in err[-1]


@pytest.mark.parametrize("value, message", [("abc", "whole number of jobs, not 'abc'"), ("0", "at least 1")])
def test_the_jobs_variable_is_refused_like_the_flag(value, message, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SSL_KIT_SWEEP_JOBS", value)
    assert main(["sweep", "--grid", "augmentation_ablations", "--world", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]
