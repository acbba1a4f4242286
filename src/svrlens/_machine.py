"""The machine a number was measured on: its CPU model, as ``lscpu`` names it.

Numbers are bit-identical per machine, not across CPU models (other instruction sets, other
library code paths): every result and benchmark records this name beside its figures.
"""

from __future__ import annotations

import platform
import subprocess
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def cpu_model() -> str:
    """The CPU's model name (``lscpu``'s "Model name", else ``/proc/cpuinfo``'s "model name",
    else :func:`platform.processor`), e.g. ``"AMD EPYC 9R45"``; never raises."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10, env={"LC_ALL": "C"})
        for line in out.stdout.splitlines():
            if line.strip().startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


# Instruction-set extensions that change which kernels torch and numba run (and so speed, and the
# last bits of results): vector width, fused multiply-add, bfloat16 dot products, AMX tiles; on
# ARM, "bf16" (the BFloat16 extension, in /proc/cpuinfo's "Features").
RELEVANT_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "bf16")
_BFLOAT16_FLAGS = {"avx512_bf16", "amx_bf16", "bf16"}


@lru_cache(maxsize=1)
def _cpuinfo_flags() -> frozenset | None:
    """Every flag of ``/proc/cpuinfo``'s "flags" (x86) or "Features" (ARM) line; None where
    there is no such file or line (macOS, Windows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


def cpu_flags() -> tuple[str, ...]:
    """Which of :data:`RELEVANT_FLAGS` this CPU reports (``/proc/cpuinfo``); () where unreadable."""
    present = _cpuinfo_flags() or frozenset()
    return tuple(flag for flag in RELEVANT_FLAGS if flag in present)


# How much slower the laptop model trained in emulated bfloat16 than in float32 (bench_train.py
# --levers --threads 1 on an AMD EPYC with AVX2 and no avx512_bf16: 0.05x); quoted in messages.
EMULATED_BFLOAT16_SLOWDOWN = 20


def bfloat16_arithmetic() -> bool | None:
    """Whether this CPU has bfloat16 arithmetic (AVX512-BF16, AMX, or ARM's BF16); None where
    the CPU's flags cannot be read. Without it torch emulates bfloat16, slower than float32."""
    present = _cpuinfo_flags()
    return None if present is None else bool(_BFLOAT16_FLAGS & present)


def native_bfloat16() -> bool:
    """Whether this CPU is known to have bfloat16 arithmetic (:func:`bfloat16_arithmetic`)."""
    return bool(bfloat16_arithmetic())
