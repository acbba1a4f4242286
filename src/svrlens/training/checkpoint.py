"""Checkpoints: written atomically, read with ``torch.load(..., weights_only=True)``."""

from __future__ import annotations

from pathlib import Path

import torch

from svrlens.errors import InputError
from svrlens.io import atomic_write


def save_checkpoint(path, state: dict) -> None:
    """Write ``state`` (tensors, dicts, lists, numbers, strings only) to ``path`` atomically."""
    atomic_write(path, lambda handle: torch.save(state, handle))


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
