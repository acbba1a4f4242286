"""README's preset tables say what the presets in the code do (epochs, image size, decoder width,
grid sizes), and README links nothing outside the repository."""

import pathlib
import re

import pytest

from svrlens.experiments import preset_spec
from svrlens.training.config import PRESETS as TRAIN_PRESETS
from svrlens.training.config import preset

ROOT = pathlib.Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


def _table_rows(header: str) -> dict:
    """The rows of the README table whose header line starts with ``header``: preset → cells."""
    lines = README.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith(header))
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[re.search(r"`(\w+)`", cells[0]).group(1)] = cells
    return rows


def _numbers(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", text)]


def _model_cells(cell: str) -> dict:
    """Decoder width, training grid and prediction grid from a cell such as "width 128, trained on
    a 16 × 16 grid, predicts on 32 × 32" or "decoder width 512, 32 × 32 grid"."""
    grids = [int(a) for a, b in re.findall(r"(\d+) × (\d+)", cell) if a == b]
    return {
        "width": int(re.search(r"width (\d+)", cell).group(1)),
        "grid": grids[0],
        "eval_grid": grids[1] if len(grids) > 1 else grids[0],
    }


def _model_of(config) -> dict:
    model = config.model
    eval_grid = model.eval_grid_size or model.grid_size
    return {"width": model.decoder_width, "grid": model.grid_size, "eval_grid": eval_grid}


@pytest.mark.parametrize("name", sorted(TRAIN_PRESETS))
def test_training_preset_table_matches_the_code(name):
    rows = _table_rows("| preset | images | decoder | epochs | for |")
    _, images, decoder, epochs, _ = rows[name]
    config = preset(name)
    assert _numbers(images)[0] == config.image_size
    assert _model_cells(decoder) == _model_of(config)
    assert _numbers(epochs)[0] == config.epochs
    if "val every" in epochs:
        assert int(re.search(r"val every (\d+)", epochs).group(1)) == config.val_every


@pytest.mark.parametrize("name", ["laptop", "paper"])
def test_experiment_preset_table_matches_the_code(name):
    rows = _table_rows("| preset | data | model | epochs (1.1.n / 1.2.n) | runs | measured |")
    _, data, model, epochs, runs, _ = rows[name]
    spec = preset_spec(name)
    trains = {study.family: study.train for study in spec.studies}
    assert int(re.search(r"at (\d+) px", data).group(1)) == spec.bases["cube-sphere"].image_size
    assert _model_cells(model) == _model_of(trains["1.2"]) == _model_of(trains["1.1"])
    assert _numbers(epochs)[:2] == [trains["1.1"].epochs, trains["1.2"].epochs]
    assert _numbers(runs)[0] == len(spec.runs())


def test_seeds_preset_row_matches_the_code():
    _, data, model, epochs, runs, _ = _table_rows(
        "| preset | data | model | epochs (1.1.n / 1.2.n) | runs | measured |"
    )["seeds"]
    spec = preset_spec("seeds")
    trains = {study.family: study.train for study in spec.studies}
    assert _numbers(epochs)[:2] == [trains["1.1"].epochs, trains["1.2"].epochs]
    assert f"every {trains['1.1'].val_every} epochs" in epochs and "seeds 0, 1, 2" in epochs
    assert "1.1.n in bfloat16" in model and trains["1.1"].model.precision == "bfloat16"
    assert "1.2.n in float32" in model and trains["1.2"].model.precision == "float32"
    assert _numbers(runs)[0] == len(spec.runs())


def test_readme_links_stay_inside_the_repository():
    targets = re.findall(r"\]\(([^)#]+)[^)]*\)", README) + re.findall(r"`(\.\./[^`]+)`", README)
    local = [t for t in targets if not re.match(r"[a-z]+://", t)]
    assert local, "no relative link found: the pattern no longer matches README's links"
    for target in local:
        resolved = (ROOT / target).resolve()
        assert resolved.is_relative_to(ROOT) and resolved.exists(), target
