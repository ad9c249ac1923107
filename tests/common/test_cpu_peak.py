"""The CPU's peak FLOP/s (`ssl_kit.common.cpu_peak`): known answers from `lscpu` and `/proc/cpuinfo` texts."""

from __future__ import annotations

import pytest

from ssl_kit.common.cpu_peak import cpu_spec


def _lscpu(family: int, model: int, flags: str, threads: int = 1, vendor: str = "AuthenticAMD", max_mhz=None):
    lines = [
        f"Vendor ID: {vendor}",
        "Model name: AMD EPYC",
        f"CPU family: {family}",
        f"Model: {model}",
        f"Thread(s) per core: {threads}",
        f"Flags: {flags}",
    ]
    if max_mhz:
        lines.append(f"CPU max MHz: {max_mhz}")
    return "\n".join(lines)


CPUINFO = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu MHz\t\t: 2596.132\n"


def test_zen4_with_avx512_bf16_two_cores_at_the_nominal_clock():
    spec = cpu_spec(_lscpu(25, 17, "fma avx2 avx512f avx512_bf16"), CPUINFO, cpus=2)
    assert (spec.core_name, spec.cores, spec.clock_source) == (
        "Zen 4",
        2,
        "the nominal clock of /proc/cpuinfo, no boost clock reported",
    )
    # 2 cores x 2.596 GHz x (2 pipes x 8 fp32 lanes x 2) = 166.1; bf16 twice that
    assert spec.peak_gflops("fp32") == pytest.approx(2 * 2.596132 * 32)
    assert spec.peak_gflops("bf16") == pytest.approx(2 * 2.596132 * 64)


def test_zen1_splits_avx2_and_has_no_native_bf16():
    spec = cpu_spec(_lscpu(23, 1, "fma avx2", max_mhz="3000.0000"), CPUINFO, cpus=2)
    assert (spec.core_name, spec.vector_bits, spec.ghz, spec.clock_source) == (
        "Zen 1",
        128,
        3.0,
        "lscpu's maximum",
    )
    assert spec.peak_gflops("fp32") == spec.peak_gflops("bf16") == pytest.approx(2 * 3.0 * 16)


def test_an_unknown_cpu_is_read_from_its_flags_and_smt_threads_share_a_core():
    spec = cpu_spec(
        _lscpu(6, 143, "fma avx2 avx512f amx_bf16", threads=2, vendor="GenuineIntel"), CPUINFO, cpus=4
    )
    assert (spec.core_name, spec.cores, spec.vector_bits) == ("from flags", 2, 512)
    assert spec.flop_per_cycle("fp32") == 64 and spec.flop_per_cycle("bf16") == 1024
    with pytest.raises(ValueError, match="fp32 or bf16"):
        spec.flop_per_cycle("fp16")
