"""Dependencies point down the pipeline: geometry ← tendency, data, models ← training ← evaluation ←
experiments ← report / cli. Peers never import each other; nothing imports the CLI."""

import ast
import pathlib

import pytest

SRC = pathlib.Path(__file__).parents[1] / "src" / "svrlens"
BOTTOM = {"geometry"}
PEERS = {"tendency", "data", "models"}
ALLOWED = {
    "geometry": set(),
    "tendency": BOTTOM,
    "data": BOTTOM,
    "models": BOTTOM,
    "training": BOTTOM | PEERS,
    "evaluation": BOTTOM | PEERS | {"training"},
    "experiments": BOTTOM | PEERS | {"training", "evaluation"},
    "report": BOTTOM | PEERS | {"training", "evaluation", "experiments"},
}


def _stages_imported(path: pathlib.Path, stage: str) -> set:
    """The svrlens stages a module imports (absolute or relative, at any depth in the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names = [node.module or ""]
            elif node.level == 1:  # from .x import y: inside the same stage
                names = [f"svrlens.{stage}"]
            else:  # from ..x import y
                names = [f"svrlens.{node.module or ''}"]
        else:
            continue
        found |= {n.split(".")[1] for n in names if n.startswith("svrlens.") and n.count(".") >= 1}
    return found & (set(ALLOWED) | {"cli"})


@pytest.mark.parametrize("stage", sorted(ALLOWED))
def test_stages_import_only_the_stages_below_them(stage):
    modules = sorted((SRC / stage).glob("*.py"))
    assert modules, f"no modules under {stage}"
    for module in modules:
        wrong = _stages_imported(module, stage) - ALLOWED[stage] - {stage}
        assert not wrong, f"{module.relative_to(SRC)} imports {sorted(wrong)}"


def test_the_rule_sees_a_violation(tmp_path):
    module = tmp_path / "peer.py"
    module.write_text("def f():\n    from svrlens.tendency import silhouette_score\n")
    assert _stages_imported(module, "data") == {"tendency"}
