"""Safe reading of user files and atomic writing of results.

Readers never unpickle (``np.load(..., allow_pickle=False)``), check the dtype and shape of
every array they hand on, read text that other tools wrote (UTF-8 with or without a byte-order
mark, UTF-16/32 with one, any line ending), find files whatever the case of their suffix
(``.PNG``, ``.NPY``), and raise :class:`~svrlens.errors.InputError` naming the file (and the
field) on any problem. Writers go to a temporary name in the same directory and rename, so a
crash never leaves a half-written file; a write that fails (full disk, no permission) is an
InputError naming the path. :func:`published_directory` does the same for a whole directory
of results.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from svrlens.errors import InputError

# An image beyond this many pixels is refused before it is decoded (8192 x 4096): renderings
# are 64–1024 px a side, and a decompression bomb must not take the machine's memory.
MAX_IMAGE_PIXELS = 2**25
_KINDS = {"b": "booleans", "c": "complex numbers", "U": "text", "S": "bytes", "O": "Python objects"}


def files_with_suffix(folder, *suffixes: str) -> list[Path]:
    """The files of ``folder`` whose suffix is one of ``suffixes`` in any case (``.png``
    finds ``a.PNG`` too), sorted by name."""
    wanted = {s.lower() for s in suffixes}
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in wanted and p.is_file())


def numeric_array(array: np.ndarray, path, what: str, *, kinds: str = "iuf") -> np.ndarray:
    """``array`` unchanged if its dtype kind is one of ``kinds`` (numpy kind letters: i signed,
    u unsigned, f floating); booleans, complex numbers, text, objects and structured records are
    refused with an InputError naming ``path`` and ``what``, before anything converts them."""
    if array.dtype.kind not in kinds or array.dtype.fields is not None:
        found = "structured records" if array.dtype.fields is not None else _KINDS.get(array.dtype.kind)
        want = "real numbers" if "f" in kinds else "integers"
        raise InputError(f"{what}: expected {want}, found {found or 'dtype'} ({array.dtype})", path)
    return array


def _readable_file(path: Path, what: str) -> None:
    if not path.exists():
        raise InputError(f"no such {what}", path)
    if path.is_dir():
        raise InputError(f"expected a {what}, found a directory", path)


def load_npy(path) -> np.ndarray:
    """Load a ``.npy`` array without pickles; errors name the file."""
    path = Path(path)
    _readable_file(path, "file")
    try:
        with open(path, "rb") as handle:
            magic = handle.read(6)
        if magic != b"\x93NUMPY":
            raise InputError("not a .npy file (bad header: truncated, corrupt or another format)", path)
        return np.load(path, allow_pickle=False)
    except InputError:
        raise
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise InputError(
                "holds Python objects (pickled); only plain numeric arrays are read", path
            ) from None
        raise InputError(f"not a valid .npy file ({error})", path) from None
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise InputError(f"cannot be read as .npy ({error})", path) from None


def load_npz(path, required=(), optional=()) -> dict:
    """The members ``required`` (all must be present) and ``optional`` (those present) of an
    ``.npz``, as arrays. Only these members are read, so an unrelated member (even a pickled
    one) does not matter; a pickled member that is read is refused. Errors name file and member."""
    path = Path(path)
    _readable_file(path, "file")
    out = {}
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not isinstance(archive, np.lib.npyio.NpzFile):
                raise InputError("expected an .npz archive, found a single .npy array", path)
            missing = [name for name in required if name not in archive.files]
            if missing:
                raise InputError(f"expected an array {missing[0]!r}, found {sorted(archive.files)}", path)
            for name in [*required, *(n for n in optional if n in archive.files)]:
                try:
                    out[name] = archive[name]
                except ValueError as error:
                    held = (
                        "Python objects (pickled)" if "allow_pickle" in str(error) else f"bad data ({error})"
                    )
                    raise InputError(
                        f"member {name!r} holds {held}; only numeric arrays are read", path
                    ) from None
    except InputError:
        raise
    except Exception as error:  # zip and format errors of many kinds
        raise InputError(f"not a readable .npz ({type(error).__name__})", path) from None
    return out


def _decode_text(path: Path) -> str:
    """The text of a file written by any editor: UTF-8 (a BOM is dropped), UTF-16/32 with a BOM."""
    _readable_file(path, "file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot be read ({error.strerror})", path) from None
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            break
    else:
        codec = "utf-8"
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        raise InputError(
            f"not UTF-8 text (byte {error.start}: {data[error.start : error.start + 1]!r}); save it as UTF-8",
            path,
        ) from None


def read_lines(path) -> list[str]:
    """The non-blank lines of a text file, stripped (any line ending, any BOM; see
    :func:`_decode_text`)."""
    return [line.strip() for line in _decode_text(Path(path)).splitlines() if line.strip()]


def _no_duplicate_keys(pairs):
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"the key {repeated[0]!r} appears twice in one object")
    return dict(pairs)


def read_json(path):
    """Parse a JSON file (UTF-8 with or without BOM, or UTF-16/32 with a BOM). A missing file,
    invalid JSON or a key repeated within one object (an editor's copy-paste, where the last
    would silently win) is an :class:`InputError` naming it."""
    path = Path(path)
    text = _decode_text(path)
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except ValueError as error:  # JSONDecodeError included
        raise InputError(f"not valid JSON ({error})", path) from None


def read_image(path) -> np.ndarray:
    """An image file as uint8 RGB (H, W, 3); errors name the file.

    Transparency — an alpha channel, a palette's, or a PNG transparency key on a gray or RGB
    image — is composited on white (as 3D-R2N2's renderings are meant to be seen). 16-bit gray
    images are scaled to 8 bits (value / 257, rounded: 0…65535 → 0…255), not clipped. Images of
    more than :data:`MAX_IMAGE_PIXELS` pixels and floating-point images are refused.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    _readable_file(path, "image")
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise InputError(
                    f"{width}x{height} pixels: expected at most {MAX_IMAGE_PIXELS:,} pixels per image", path
                )
            image.load()
            return _rgb_on_white(image, path)
    except InputError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise InputError(f"not a readable image ({type(error).__name__})", path) from None


def _rgb_on_white(image, path: Path) -> np.ndarray:
    from PIL import Image

    if image.mode.startswith("I"):  # 16-bit (I;16*) or 32-bit (I) integer gray
        raw = np.asarray(image).astype(np.int64)
        if raw.size and (raw.min() < 0 or raw.max() > 65535):
            raise InputError(f"expected 8- or 16-bit pixels, found values up to {raw.max()}", path)
        gray = np.rint(raw / 257).astype(np.uint8)
        key = image.info.get("transparency")
        if isinstance(key, int):
            gray[raw == key] = 255
        return np.repeat(gray[..., None], 3, axis=-1)
    if image.mode == "F":
        raise InputError("expected 8- or 16-bit pixels, found floating-point pixels", path)
    if image.mode in ("RGBA", "LA", "P", "PA", "La", "RGBa") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.asarray(image.convert("RGB"))


def load_png_folder(path) -> tuple[np.ndarray, list[str]]:
    """All ``*.png`` images of a folder (any case of suffix; sorted by name) as uint8
    (N, H, W, 3), and their names (stems)."""
    files = files_with_suffix(path, ".png")
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


def cannot_write(path, error: OSError) -> InputError:
    """The InputError for a failed write: the path and the system's reason (full disk, …)."""
    return InputError(f"cannot write ({error.strerror or error})", path)


def atomic_write(path, write) -> Path:
    """Call ``write(binary file handle)`` on a temporary file beside ``path``, then rename it into
    place: readers never see a half-written file, and a failure leaves nothing behind.

    Raises
    ------
    InputError
        The file cannot be written (a full disk, no permission, a file where a directory is
        needed); the message names ``path`` and the reason.
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except OSError as error:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise cannot_write(path, error) from None
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise
    return path


def writable_path(path) -> Path:
    """``path`` if a file can be created there (checked before long work, so it is not lost):
    it is not a directory, and its nearest existing ancestor is a directory.

    Raises
    ------
    InputError
        ``path`` is a directory, or a file stands where a directory is needed.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError("expected a file name, found a directory", path)
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"cannot write ({parent} is a file, not a directory)", path)
    return path


@contextlib.contextmanager
def published_directory(out, owned=()):
    """Write a directory of results all at once: yields a temporary sibling directory to write
    into; on success it replaces ``out``, on any failure it is removed and ``out`` is as before.

    ``out`` may be absent, empty, or hold only names in ``owned`` (a collection of names, or a
    predicate on a name: an earlier result of the same command, replaced whole); anything else
    in it is refused before work starts, so a user's files are never deleted.

    Raises
    ------
    InputError
        ``out`` is a file or holds other files, or the directory cannot be written.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a directory; use another --out", out)
    mine = owned if callable(owned) else (lambda name: name in owned)
    foreign = sorted(p.name for p in out.iterdir() if not mine(p.name)) if out.is_dir() else []
    if foreign:
        raise InputError(
            f"holds files this command did not write (first: {foreign[0]!r}); use another --out", out
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as error:
        raise cannot_write(out, error) from None
    try:
        yield staging
        os.chmod(staging, DIRECTORY_MODE)
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            os.replace(out, old / out.name)
        os.replace(staging, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise cannot_write(out, error) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


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
