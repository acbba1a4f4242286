"""Start-up: commands that need no network never import torch (~1.6 s of a 2.5 s start, issue 18).

Each check runs in a fresh interpreter, because this test session has imported torch already.
"""

import subprocess
import sys

import numpy as np
import pytest

SCRIPT = """
import sys
from svrlens.cli import main
code = main(sys.argv[1:])
print("TORCH", "torch" in sys.modules, "CODE", code)
"""


def _run(*args):
    done = subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[-4:]


def test_tendency_of_a_saved_matrix_never_imports_torch(tmp_path):
    points = np.random.default_rng(0).random((40, 2))
    distances = np.abs(points[:, None] - points[None]).sum(-1)
    np.save(tmp_path / "d.npy", distances)
    assert _run("tendency", str(tmp_path / "d.npy"), "--quiet") == ["TORCH", "False", "CODE", "0"]
    np.save(tmp_path / "d2.npy", np.repeat(distances, 2, 0)[:, np.repeat(np.arange(40), 2)])  # duplicates
    assert _run("tendency", str(tmp_path / "d2.npy"), "--quiet") == ["TORCH", "False", "CODE", "0"]
    assert _run("tendency", str(tmp_path / "d.npy"), "--method", "dispersion", "--k", "2") == [
        "TORCH",
        "False",
        "CODE",
        "0",
    ]


def test_clouds_do_import_torch(tmp_path):
    """The check above is not vacuous: a Chamfer matrix does need torch."""
    np.save(tmp_path / "c.npy", np.random.default_rng(0).random((6, 32, 3)).astype(np.float32))
    assert _run("tendency", str(tmp_path / "c.npy"), "--quiet") == ["TORCH", "True", "CODE", "0"]


@pytest.mark.parametrize("package", ["models", "training", "evaluation", "experiments"])
def test_public_names_resolve_and_configs_stay_light(package):
    """Every name in a lazily loaded package's ``__all__`` resolves; its configuration does not
    pull in torch."""
    code = (
        f"import sys, svrlens.{package} as p\n"
        "import svrlens.models.config, svrlens.training.config, svrlens.evaluation.config\n"
        "light = 'torch' not in sys.modules\n"
        "missing = [n for n in p.__all__ if getattr(p, n, None) is None]\n"
        "print(light, missing)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "[]"]
