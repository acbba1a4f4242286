"""Affinity-propagation message passing: a fused numba sweep (CPU) and a torch version (any device).

Both follow scikit-learn's update order exactly: iteration t computes the responsibilities
R_t from the availabilities A_{t−1}, then A_t from R_t, then the exemplar test
``diag(A_t) + diag(R_t) > 0``.

The CPU sweep fuses iteration t's availability row update with iteration t+1's responsibility
row update: R_{t+1}[i] needs only row i of A_t and S, and the row is still in cache. One
sweep therefore reads S, R, A once and writes R, A once — the memory-bandwidth floor of the
algorithm — and the only N×N arrays are S, R and A, updated in place. The row maxima start
at −inf, so the fast-math flags (:data:`svrlens._llvm.FAST`) exclude ``ninf``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np
from numba import njit, prange

from svrlens._llvm import FAST, fmax, fmin

if TYPE_CHECKING:
    import torch


@njit(parallel=True, fastmath=FAST, cache=True)
def ap_sweep(S, R, A, colsum, parts, exemplar, consts, update_availability):
    """One fused sweep over the rows.

    S, R, A : (N, N) float32/float64, updated in place (R, A).
    colsum : (N,) column sums of max(R, 0) with R's own diagonal, from the previous sweep.
    parts : (C, N) scratch; on return ``parts.sum(0)`` is the new column sum.
    exemplar : (N,) bool, written when ``update_availability`` (the test of iteration t).
    consts : (4,) array of S's dtype: damping, 1 − damping, −inf, 0 (typed constants keep
        float32 arithmetic in float32; Python floats would widen it to float64).
    """
    n = S.shape[0]
    n_parts = parts.shape[0]
    keep = consts[0]
    step = consts[1]
    neg_inf = consts[2]
    zero = consts[3]
    for c in prange(n_parts):
        part = parts[c]
        for k in range(n):
            part[k] = 0.0
        size = (n + n_parts - 1) // n_parts
        for i in range(min(c * size, n), min((c + 1) * size, n)):
            s_row = S[i]
            r_row = R[i]
            a_row = A[i]
            if update_availability:
                a_diag = keep * a_row[i] + step * (colsum[i] - r_row[i])
                for k in range(n):
                    new = fmin(colsum[k] - fmax(r_row[k], zero), zero)
                    a_row[k] = keep * a_row[k] + step * new
                a_row[i] = a_diag
                exemplar[i] = a_row[i] + r_row[i] > 0
            # Responsibilities of the next iteration: best and second-best of A + S on the row.
            best = neg_inf
            for k in range(n):
                best = fmax(best, a_row[k] + s_row[k])
            arg = 0
            for k in range(n):
                if a_row[k] + s_row[k] == best:
                    arg = k
                    break
            second = neg_inf
            for k in range(arg):
                second = fmax(second, a_row[k] + s_row[k])
            for k in range(arg + 1, n):
                second = fmax(second, a_row[k] + s_row[k])
            r_arg = keep * r_row[arg] + step * (s_row[arg] - second)
            for k in range(n):
                r_row[k] = keep * r_row[k] + step * (s_row[k] - best)
            r_row[arg] = r_arg
            for k in range(n):
                part[k] += fmax(r_row[k], zero)
            part[i] += r_row[i] - fmax(r_row[i], zero)  # the diagonal enters unclipped


def n_parts() -> int:
    return max(1, numba.get_num_threads() * 4)


class NumbaMessages:
    """Message state for the CPU: S, R, A in place, the column sums between sweeps."""

    def __init__(self, S: np.ndarray, R: np.ndarray | None = None, A: np.ndarray | None = None):
        self.S = S
        self.R = np.zeros_like(S) if R is None else R
        self.A = np.zeros_like(S) if A is None else A
        self.parts = np.zeros((n_parts(), S.shape[0]), S.dtype)
        self.colsum = np.zeros(S.shape[0], S.dtype)
        self.exemplar = np.zeros(S.shape[0], np.bool_)
        self.primed = False

    def iterate(self, damping: float) -> np.ndarray:
        """Run one iteration; return the exemplar indicator (N,) of that iteration."""
        consts = np.array([damping, 1.0 - damping, -np.inf, 0.0], self.S.dtype)
        if not self.primed:  # R_0 from the current A (zeros, or a warm start)
            ap_sweep(self.S, self.R, self.A, self.colsum, self.parts, self.exemplar, consts, False)
            self.colsum[:] = self.parts.sum(0)
            self.primed = True
        ap_sweep(self.S, self.R, self.A, self.colsum, self.parts, self.exemplar, consts, True)
        self.colsum[:] = self.parts.sum(0)
        return self.exemplar.copy()

    def set_diagonal(self, values: np.ndarray) -> None:
        """Self-similarities (the preference, with tie-breaking noise)."""
        np.fill_diagonal(self.S, values)
        self.primed = False  # the pending R was computed with the old diagonal


class TorchMessages:
    """The same iteration with whole-matrix torch ops (CUDA, or as a cross-check on the CPU)."""

    def __init__(self, S: torch.Tensor, R=None, A=None):
        import torch  # here, not at the top: the CPU path runs without torch

        self.S = S
        self.R = torch.zeros_like(S) if R is None else R
        self.A = torch.zeros_like(S) if A is None else A
        self.tmp = torch.empty_like(S)

    def iterate(self, damping: float) -> np.ndarray:
        import torch

        S, R, A, tmp = self.S, self.R, self.A, self.tmp
        rows = torch.arange(S.shape[0], device=S.device)
        torch.add(A, S, out=tmp)
        best, arg = tmp.max(1)
        tmp[rows, arg] = -torch.inf
        second = tmp.max(1).values
        torch.sub(S, best[:, None], out=tmp)
        tmp[rows, arg] = S[rows, arg] - second
        R.mul_(damping).add_(tmp, alpha=1 - damping)
        torch.clamp(R, min=0, out=tmp)
        tmp.diagonal().copy_(R.diagonal())
        tmp.sub_(tmp.sum(0, keepdim=True))  # tmp = −A_new before clipping
        diag = tmp.diagonal().clone()
        tmp.clamp_(min=0)
        tmp.diagonal().copy_(diag)
        A.mul_(damping).sub_(tmp, alpha=1 - damping)
        return ((A.diagonal() + R.diagonal()) > 0).cpu().numpy()

    def set_diagonal(self, values: np.ndarray) -> None:
        import torch

        self.S.diagonal().copy_(torch.as_tensor(values, dtype=self.S.dtype, device=self.S.device))
