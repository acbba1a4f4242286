"""Checkpoints: written atomically, read with ``torch.load(..., weights_only=True)``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch

from svrlens.errors import InputError


def save_checkpoint(path, state: dict) -> None:
    """Write ``state`` (tensors, dicts, lists, numbers, strings only) to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_checkpoint(path, map_location="cpu") -> dict:
    """Read a checkpoint without unpickling arbitrary objects; errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such checkpoint", path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises many types for corrupt files
        raise InputError(f"not a readable svrlens checkpoint: corrupt, truncated, or holding objects other than tensors ({type(error).__name__})", path) from None
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise InputError("not a svrlens checkpoint (no model weights or config)", path)
    return state
