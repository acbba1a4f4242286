"""Safe reading of user files and atomic writing of results.

User files are never unpickled: ``np.load(..., allow_pickle=False)``. Every failure is an
:class:`~svrlens.errors.InputError` naming the file. Writers go to a temporary name in the
same directory and rename, so a crash never leaves a half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from svrlens.errors import InputError


def load_npy(path) -> np.ndarray:
    """Load a ``.npy`` array without pickles; errors name the file."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such file", path)
    if path.is_dir():
        raise InputError("expected a .npy file, found a directory", path)
    with open(path, "rb") as handle:
        magic = handle.read(6)
    if magic != b"\x93NUMPY":
        raise InputError("not a .npy file (bad header: truncated, corrupt or another format)", path)
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise InputError(
                "holds Python objects (pickled); only plain numeric arrays are read", path
            ) from None
        raise InputError(f"not a valid .npy file ({error})", path) from None
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise InputError(f"cannot be read as .npy ({error})", path) from None


def read_image(path) -> np.ndarray:
    """An image file as uint8 RGB (H, W, 3); transparency is composited on white (as 3D-R2N2's
    renderings are meant to be seen). Errors name the file."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as image:
            if image.mode in ("RGBA", "LA", "P"):
                rgba = image.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError) as error:
        raise InputError(f"not a readable image ({type(error).__name__})", path) from None


def load_png_folder(path) -> tuple[np.ndarray, list[str]]:
    """All ``*.png`` images of a folder (sorted by name) as uint8 (N, H, W, 3), and their names."""
    files = sorted(Path(path).glob("*.png"))
    images = []
    for file in files:
        images.append(read_image(file))
        if images[-1].shape != images[0].shape:
            raise InputError(
                f"expected every image to be {images[0].shape[1]}x{images[0].shape[0]} like {files[0].name}, "
                f"found {images[-1].shape[1]}x{images[-1].shape[0]}",
                file,
            )
    return np.stack(images) if images else np.zeros((0, 0, 0, 3), np.uint8), [f.stem for f in files]


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# mkstemp creates files readable by their owner only; results are meant to be shared (a cluster's
# shared path, a collaborator's copy), so written files get the usual permissions under the umask.
_FILE_MODE = 0o666 & ~_current_umask()
DIRECTORY_MODE = 0o777 & ~_current_umask()  # for directories made with mkdtemp (0700) and renamed into place


def atomic_write(path, write) -> Path:
    """Call ``write(binary file handle)`` on a temporary file beside ``path``, then rename it into
    place: readers never see a half-written file, and a failure leaves nothing behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_json(path):
    """Parse a JSON file; a missing file or invalid JSON is an :class:`InputError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError("no such file", path)
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"not valid JSON ({error})", path) from None


def known_keys(data, allowed, where: str) -> dict:
    """``data`` if it is a dict whose keys are all in ``allowed``; else ValueError naming ``where``
    and the first unknown key (a typo in a config must not silently run the defaults)."""
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object, found {type(data).__name__}")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r} (expected some of {sorted(allowed)})")
    return data


def write_json(path, data) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    text = json.dumps(data, indent=2, default=_json_default) + "\n"
    return atomic_write(path, lambda handle: handle.write(text.encode()))


def write_text(path, text: str) -> Path:
    """Write ``text`` as UTF-8, atomically."""
    return atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def write_npy(path, array: np.ndarray) -> Path:
    """Write an array as ``.npy``, atomically."""
    return atomic_write(path, lambda handle: np.save(handle, array, allow_pickle=False))


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
