"""help(svrlens) lists the public API: every public class and function of every stage, a line each."""

import importlib
import inspect
import re

import svrlens

STAGES = ("geometry", "tendency", "data", "models", "training", "evaluation", "experiments", "report")


def _listed() -> dict:
    """stage → names listed under it in svrlens.__doc__ (lines "    name: one line")."""
    listed, stage = {}, None
    for line in svrlens.__doc__.splitlines():
        if line.startswith("svrlens."):
            stage = line.removeprefix("svrlens.").strip()
            listed[stage] = set()
        elif stage and (match := re.match(r"    (\w+): \S", line)):
            listed[stage].add(match.group(1))
    return listed


def test_help_lists_every_public_class_and_function_once():
    listed = _listed()
    assert set(listed) == set(STAGES)
    for stage in STAGES:
        module = importlib.import_module(f"svrlens.{stage}")
        public = {
            name
            for name in module.__all__
            if inspect.isclass(getattr(module, name)) or inspect.isfunction(getattr(module, name))
        }
        assert listed[stage] == public, f"svrlens.{stage}: regenerate the API list in svrlens/__init__.py"
