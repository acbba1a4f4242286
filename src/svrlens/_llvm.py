"""LLVM intrinsics for numba kernels (shared by ``geometry`` and ``tendency``).

numba lowers ``min``/``max`` (and every ternary spelling) to a compare and a select without
fast-math flags, which LLVM will not vectorise as a reduction. Calling ``llvm.minnum`` /
``llvm.maxnum`` directly does vectorise (measured: scalar ``vminss`` becomes 512-bit
``vminps`` on this Zen 5 CPU). Callers pass finite values, so the NaN rule never matters.
"""

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

# Fast-math without the approximate-function flags (afn, arcp): LLVM needs nnan/nsz/reassoc to
# vectorise reductions, while sqrt and strict comparisons must stay exact. Never ``ninf`` (nor
# ``fast``, which implies it): the kernels start their minima at +inf and maxima at −inf, and under
# ``ninf`` an operation on an infinity is poison (undefined behaviour) that LLVM may fold away —
# the nearest-neighbour indices driving the training gradient would then be whatever the
# optimiser chose. ``nnan`` stays: inputs are validated finite and no kernel uses a NaN sentinel.
# tests/geometry/test_fastmath.py checks this set and the LLVM IR of the compiled kernels.
FAST = {"nnan", "nsz", "reassoc", "contract"}


def _binary_intrinsic(name):
    def typer(typingctx, a, b):
        if not (isinstance(a, types.Float) and a == b):
            return None

        def codegen(context, builder, signature, args):
            ltype = context.get_value_type(signature.return_type)
            fn = builder.module.declare_intrinsic(name, [ltype], ir.FunctionType(ltype, [ltype, ltype]))
            return builder.call(fn, args)

        return a(a, b), codegen

    return intrinsic(typer)


fmin = _binary_intrinsic("llvm.minnum")
fmax = _binary_intrinsic("llvm.maxnum")
