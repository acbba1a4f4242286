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
# last bits of results): vector width, fused multiply-add, bfloat16 dot products, AMX tiles.
RELEVANT_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16")


@lru_cache(maxsize=1)
def cpu_flags() -> tuple[str, ...]:
    """Which of :data:`RELEVANT_FLAGS` this CPU reports (``/proc/cpuinfo``); () where unreadable."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                present = set(line.split(":", 1)[1].split())
                return tuple(flag for flag in RELEVANT_FLAGS if flag in present)
    except OSError:
        pass
    return ()


def native_bfloat16() -> bool:
    """Whether this CPU has bfloat16 arithmetic (AVX512-BF16 or AMX); without it torch emulates
    bfloat16 and autocast is slower than float32."""
    return bool({"avx512_bf16", "amx_bf16"} & set(cpu_flags()))
