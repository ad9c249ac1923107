"""How many floating-point operations a second this CPU can do at most: the limit a training step is measured
against (`benchmarks/bench_amp.py` reports the step's achieved GFLOP/s as a fraction of it).

    peak = cores x clock x FLOP per cycle per core
    FLOP per cycle per core = FMA pipes x (vector bits / element bits) x 2        (an FMA is two operations)

with, for bf16 on a CPU with AVX512-BF16, twice the fp32 figure (VDPBF16PS sums two bf16 products into each
fp32 lane), and with AMX 1,024 bf16 FLOP per cycle per core (Intel's tile unit). Cores are physical cores (this
process's CPUs divided by the threads per core); the clock is `lscpu`'s maximum where it gives one, else the
nominal clock of `/proc/cpuinfo` (a virtual machine often reports no boost clock, so the peak may be low by
the boost's factor). The FMA pipes and their width come from the microarchitecture (AMD's family and model),
else from the vector flags (`source` says which).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import asdict, dataclass

# AMD (family, first model, last model) -> (microarchitecture, FMA pipes, bits each pipe computes per cycle)
AMD_CORES = (
    (0x17, 0x00, 0x2F, "Zen 1", 2, 128),  # AVX2 is split into two 128-bit halves
    (0x17, 0x30, 0xFF, "Zen 2", 2, 256),
    (0x19, 0x00, 0x0F, "Zen 3", 2, 256),
    (0x19, 0x10, 0x1F, "Zen 4", 2, 256),  # AVX-512 runs as two 256-bit halves
    (0x19, 0x20, 0x5F, "Zen 3", 2, 256),
    (0x19, 0x60, 0xAF, "Zen 4", 2, 256),
    (0x1A, 0x00, 0xFF, "Zen 5", 2, 512),
)  # fmt: skip
AMX_BF16_FLOP_PER_CYCLE = 1024


@dataclass(frozen=True)
class CpuSpec:
    model: str
    cores: int  # physical cores this process may use
    ghz: float
    clock_source: str  # where `ghz` comes from
    core_name: str  # microarchitecture, or "from flags"
    fma_pipes: int
    vector_bits: int
    avx512_bf16: bool
    amx_bf16: bool

    def flop_per_cycle(self, dtype: str) -> float:
        """FLOP per cycle per core in fp32 or bf16 (the module doc's formula)."""
        fp32 = self.fma_pipes * (self.vector_bits / 32) * 2
        if dtype == "fp32":
            return fp32
        if dtype != "bf16":
            raise ValueError(f"dtype must be fp32 or bf16, not {dtype!r}")
        if self.amx_bf16:
            return AMX_BF16_FLOP_PER_CYCLE
        return 2 * fp32 if self.avx512_bf16 else fp32  # without native bf16 it is computed in fp32

    def peak_gflops(self, dtype: str) -> float:
        return self.cores * self.ghz * self.flop_per_cycle(dtype)

    def as_dict(self) -> dict:
        out = asdict(self)
        out.update({f"peak_gflops_{d}": round(self.peak_gflops(d), 1) for d in ("fp32", "bf16")})
        return out


def _fields(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in out:
            out[key.strip()] = value.strip()
    return out


def cpu_spec(lscpu: str | None = None, cpuinfo: str | None = None, cpus: int | None = None) -> CpuSpec:
    """This machine's spec, or the one that `lscpu` and `/proc/cpuinfo` texts describe (for tests)."""
    if lscpu is None:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    if cpuinfo is None:
        with open("/proc/cpuinfo") as f:
            cpuinfo = f.read()
    if cpus is None:
        cpus = len(os.sched_getaffinity(0))
    ls, info = _fields(lscpu), _fields(cpuinfo)
    flags = set((ls.get("Flags") or info.get("flags", "")).split())
    threads = int(ls.get("Thread(s) per core", "1") or 1)
    if ls.get("CPU max MHz"):
        ghz, clock = float(ls["CPU max MHz"]) / 1000, "lscpu's maximum"
    else:
        ghz, clock = (
            float(info.get("cpu MHz", "0") or 0) / 1000,
            "the nominal clock of /proc/cpuinfo, no boost clock reported",
        )
    family, model = int(ls.get("CPU family", "0") or 0), int(ls.get("Model", "0") or 0)
    vendor = ls.get("Vendor ID") or info.get("vendor_id", "")
    known = [c for c in AMD_CORES if vendor == "AuthenticAMD" and c[0] == family and c[1] <= model <= c[2]]
    if known:
        name, pipes, bits = known[0][3:]
    else:
        name, pipes = "from flags", 2
        bits = 512 if "avx512f" in flags else 256 if {"avx2", "fma"} <= flags else 128
    return CpuSpec(
        model=re.sub(r"\s+", " ", ls.get("Model name") or info.get("model name", "unknown")),
        cores=max(1, cpus // max(1, threads)),
        ghz=ghz,
        clock_source=clock,
        core_name=name,
        fma_pipes=pipes,
        vector_bits=bits,
        avx512_bf16="avx512_bf16" in flags,
        amx_bf16="amx_bf16" in flags,
    )
