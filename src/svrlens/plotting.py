"""Figure helpers on matplotlib's object API: no global backend is chosen, so importing svrlens in
a notebook leaves its backend alone, and every figure is written atomically.

``subplots(...)`` makes a :class:`matplotlib.figure.Figure` with its own Agg canvas (no pyplot
state, nothing to close); :func:`save_figure` writes PNG (and an SVG beside it) to temporary names
and renames them into place, so a full disk or a crash never leaves a truncated figure.
"""

from __future__ import annotations

from pathlib import Path


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
    """Write ``fig`` to ``out`` (a ``.png`` also gets an ``.svg`` beside it), atomically: the pair
    is written whole or not at all (a PNG whose SVG could not be written is removed).

    Raises
    ------
    InputError
        A file cannot be written (full disk, no permission); the message names its path.
    """
    from svrlens.io import atomic_write

    out = Path(out)
    fmt = out.suffix.lstrip(".") or "png"
    atomic_write(out, lambda handle: fig.savefig(handle, format=fmt, dpi=dpi, bbox_inches="tight"))
    if fmt == "png":
        try:
            atomic_write(
                out.with_suffix(".svg"),
                lambda handle: fig.savefig(handle, format="svg", bbox_inches="tight"),
            )
        except BaseException:
            out.unlink(missing_ok=True)
            raise
    return out
