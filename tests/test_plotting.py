"""Notebook use: svrlens's plotting never touches matplotlib's global backend nor pyplot."""

import subprocess
import sys

SCRIPT = """
import sys, matplotlib
matplotlib.use("svg")
import numpy as np
import svrlens.plotting, svrlens.data.figures, svrlens.evaluation.figures, svrlens.report.figures
from svrlens.plotting import save_figure, subplots
fig, ax = subplots(1, 1)
ax.plot([0, 1], [0, 1])
save_figure(fig, sys.argv[1])
print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
"""


def test_plotting_keeps_the_users_backend(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "f.png")], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["svg", "False"]
    assert (tmp_path / "f.png").stat().st_size > 0


def test_png_only_skips_the_svg_copy_within_its_block_only(tmp_path):
    import pytest

    from svrlens.plotting import png_only, save_figure, subplots

    fig, ax = subplots(1, 1)
    ax.plot([0, 1], [0, 1])
    with png_only():
        save_figure(fig, tmp_path / "a.png")
    assert (tmp_path / "a.png").stat().st_size > 0 and not (tmp_path / "a.svg").exists()
    with pytest.raises(RuntimeError), png_only():
        raise RuntimeError
    save_figure(fig, tmp_path / "b.png")  # the default is back after the block, even after an error
    assert (tmp_path / "b.svg").stat().st_size > 0
    with png_only():  # a PNG redrawn without its SVG leaves no SVG of the older figure beside it
        save_figure(fig, tmp_path / "b.png")
    assert not (tmp_path / "b.svg").exists()
