"""No undefined behaviour in the numba kernels: their fast-math flags never include ``ninf``.

The kernels start minima at +inf and maxima at −inf; under ``ninf`` (or ``fast``, which implies
it) an operation on an infinity is poison, which LLVM may fold into anything. Cached kernels
cannot be inspected, so the IR test compiles a fresh, uncached copy of each kernel with the same
options and reads the flags on every floating-point instruction of the optimised IR.
"""

import re
import warnings

import numba
import numpy as np
import pytest
from numba.core.registry import CPUDispatcher

from svrlens import _llvm
from svrlens.geometry import _cpu_kernels
from svrlens.tendency import _ap_kernels

_FORBIDDEN = {"ninf", "fast"}
_FP_FLAGS = re.compile(
    r"= (?:fadd|fsub|fmul|fdiv|frem|fcmp|fneg|call|select)"
    r"((?: (?:fast|nnan|ninf|nsz|arcp|contract|afn|reassoc))+) "
)


def _kernels():
    for module in (_cpu_kernels, _ap_kernels):
        for name, value in vars(module).items():
            if isinstance(value, CPUDispatcher):
                yield f"{module.__name__}.{name}", value


def test_the_shared_flag_set_allows_no_infinities():
    assert _FORBIDDEN.isdisjoint(_llvm.FAST)
    assert {"nnan", "nsz", "reassoc"} <= _llvm.FAST  # what LLVM needs to vectorise the reductions


@pytest.mark.parametrize("name, kernel", list(_kernels()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_kernel_is_compiled_without_ninf(name, kernel):
    fastmath = kernel.targetoptions.get("fastmath")
    flags = set(fastmath) if isinstance(fastmath, (set, frozenset)) else ({"fast"} if fastmath else set())
    assert _FORBIDDEN.isdisjoint(flags), f"{name} is compiled with {sorted(flags)}"


def _fresh_ir(kernel, *args) -> str:
    """Optimised LLVM IR of an uncached copy of ``kernel`` compiled for ``args``."""
    options = {k: v for k, v in kernel.targetoptions.items() if k not in ("cache", "nopython")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", numba.NumbaWarning)
        fresh = numba.njit(**options)(kernel.py_func)
        fresh(*args)
    return "\n".join(fresh.inspect_llvm().values())


def _sq_minima_args():
    x = np.zeros((2, 3, 9), np.float32)
    lengths = np.full(2, 9, np.int64)
    return x, lengths, x, lengths, np.zeros((2, 9), np.float32), np.zeros((2, 9), np.float32)


def _nearest_args():
    x, lengths, *_ = _sq_minima_args()
    d, i = np.zeros((2, 9), np.float32), np.zeros((2, 9), np.int32)
    return x, lengths, x, lengths, d, i, d.copy(), i.copy()


def _ap_args():
    s = -np.abs(np.subtract.outer(np.arange(6.0), np.arange(6.0))).astype(np.float32)
    consts = np.array([0.5, 0.5, -np.inf, 0.0], np.float32)
    parts = np.zeros((2, 6), np.float32)
    return (
        s,
        np.zeros_like(s),
        np.zeros_like(s),
        np.zeros(6, np.float32),
        parts,
        np.zeros(6, bool),
        consts,
        True,
    )


@pytest.mark.parametrize(
    "kernel, make_args",
    [
        (_cpu_kernels.batch_sq_minima, _sq_minima_args),
        (_cpu_kernels.batch_nearest, _nearest_args),
        (_ap_kernels.ap_sweep, _ap_args),
    ],
    ids=["batch_sq_minima", "batch_nearest", "ap_sweep"],
)
def test_compiled_ir_has_no_ninf_on_any_instruction(kernel, make_args):
    ir = _fresh_ir(kernel, *make_args())
    found = [set(flags.split()) for flags in _FP_FLAGS.findall(ir)]
    assert found, "no fast-math instruction found: the IR pattern no longer matches numba's output"
    assert all(_FORBIDDEN.isdisjoint(flags) for flags in found)
    assert any("nnan" in flags for flags in found)  # the flags that are meant to be there are
