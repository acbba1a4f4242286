"""Figure helpers on matplotlib's object API: no global backend is chosen, so importing svrlens in
a notebook leaves its backend alone, and every figure is written atomically.

``subplots(...)`` makes a :class:`matplotlib.figure.Figure` with its own Agg canvas (no pyplot
state, nothing to close); :func:`save_figure` writes PNG (and an SVG beside it) to temporary names
and renames them into place, so a full disk or a crash never leaves a truncated figure.
"""

from __future__ import annotations

import contextlib
import contextvars
from pathlib import Path

# Whether a PNG gets its SVG copy. A sweep's per-run diagnosis figures skip it (png_only): the
# report inlines their PNGs, and the SVG of the qualitative and matrix figures was about half of a
# run's figure time (measured). A context variable, so that the figure functions stay one API.
_VECTOR_COPIES = contextvars.ContextVar("svrlens_vector_copies", default=True)


@contextlib.contextmanager
def png_only():
    """Within this block, :func:`save_figure` writes a ``.png`` without its ``.svg`` copy."""
    token = _VECTOR_COPIES.set(False)
    try:
        yield
    finally:
        _VECTOR_COPIES.reset(token)


def subplots(nrows: int = 1, ncols: int = 1, **kwargs):
    """``(figure, axes)`` like ``pyplot.subplots`` but without pyplot: the figure owns an Agg
    canvas and is freed with its last reference."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure_kwargs = {k: kwargs.pop(k) for k in ("figsize", "dpi", "layout") if k in kwargs}
    fig = Figure(**figure_kwargs)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def save_figure(fig, out, *, dpi: int = 120) -> Path:
    """Write ``fig`` to ``out`` (a ``.png`` also gets an ``.svg`` beside it, except inside
    :func:`png_only`), atomically: the pair is written whole or not at all (a PNG whose SVG could
    not be written is removed).

    Raises
    ------
    InputError
        A file cannot be written (full disk, no permission); the message names its path.
    """
    from svrlens.io import atomic_write

    out = Path(out)
    fmt = out.suffix.lstrip(".") or "png"
    atomic_write(out, lambda handle: fig.savefig(handle, format=fmt, dpi=dpi, bbox_inches="tight"))
    if fmt == "png" and not _VECTOR_COPIES.get():
        out.with_suffix(".svg").unlink(missing_ok=True)  # never an older figure's SVG beside this PNG
    elif fmt == "png":
        try:
            atomic_write(
                out.with_suffix(".svg"),
                lambda handle: fig.savefig(handle, format="svg", bbox_inches="tight"),
            )
        except BaseException:
            out.unlink(missing_ok=True)
            raise
    return out
