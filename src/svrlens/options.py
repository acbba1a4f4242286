"""Typed configurations: validated in one place, and the command line's options generated from them.

Every entry point's settings are a :func:`validated` class — a pydantic dataclass with
``extra="forbid"`` and ``validate_assignment``: a value of the wrong type or out of range is
refused when the object is built (or a field is set), *before* any data is generated, whether it
came from a command-line option, a spec file or Python. Field types say what is accepted
(:data:`Int` refuses ``1.5``, ``True`` and ``"3"``; :data:`Float` refuses NaN and inf), and
:func:`option` gives each field its help text, unit, range and command-line flag.

A refusal is a ``ValueError`` of one line, ``<field>: expected <what>, found <value>`` (nested
fields as ``model.grid_size``, list items as ``thresholds[0]``); :func:`from_args` words it
with the flag the user typed instead (``--bootstrap: expected an integer ≥ 10, found 3``) as an
:class:`~svrlens.errors.InputError`. :func:`add_options` adds a config's fields to an argparse
parser: type, choices, ``nargs`` and the help text with default and unit all come from the class,
so the command line cannot drift from the configuration.
"""

from __future__ import annotations

import functools
import typing
from dataclasses import MISSING, fields
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AllowInfNan, BeforeValidator, ConfigDict, Field, Strict, ValidationError
from pydantic.dataclasses import dataclass as _pydantic_dataclass

from svrlens.errors import InputError


def _plain_int(value):
    """numpy integers (from arrays and manifests) are integers; bools are not."""
    return int(value) if isinstance(value, np.integer) else value


# Field types: strict (no "3" → 3, no 2.5 → 2, no True → 1); floats are finite.
Int = Annotated[int, BeforeValidator(_plain_int), Strict()]
Float = Annotated[float, Strict(), AllowInfNan(False)]
Bool = Annotated[bool, Strict()]
Str = Annotated[str, Strict()]
# numpy's generators take seeds in [0, 2**63), torch's in [0, 2**64): the intersection.
Seed = Annotated[Int, Field(ge=0, lt=2**63)]

_SETTINGS = ConfigDict(extra="forbid", validate_assignment=True)


def option(
    description: str,
    *,
    unit: str = "",
    flag: str | None = None,
    negate: str | None = None,
    default_text: str | None = None,
    **constraints,
):
    """A field's metadata: ``description`` (help text), ``unit`` (after the default in the help),
    ``flag`` (command-line name; default ``--field-name``), ``negate`` (a boolean field set to
    False by this store-true flag, e.g. ``--absolute`` for ``relative``), ``default_text`` (the
    default as the help should say it) and pydantic constraints (``ge``, ``gt``, ``le``, ``lt``,
    ``min_length``, ``max_length``)."""
    extra = {"unit": unit, "flag": flag, "negate": negate, "default_text": default_text}
    return Field(description=description, json_schema_extra=extra, **constraints)


def validated(cls=None, *, where: str = ""):
    """Make ``cls`` a validated configuration: a pydantic dataclass (stdlib ``fields``, ``asdict``
    and ``replace`` still work) whose refusals are one-line ``ValueError`` s (see the module
    docstring), each field prefixed with ``where`` (e.g. ``"evaluation."``)."""
    if cls is None:
        return functools.partial(validated, where=where)
    cls = _pydantic_dataclass(cls, config=_SETTINGS)
    init, setattr_ = cls.__init__, cls.__setattr__

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        try:
            init(self, *args, **kwargs)
        except ValidationError as error:
            raise ValueError(explain(error, where)) from None

    def __setattr__(self, name, value):
        try:
            setattr_(self, name, value)
        except ValidationError as error:
            raise ValueError(explain(error, where)) from None

    cls.__init__, cls.__setattr__ = __init__, __setattr__
    return cls


def _location(loc, names: dict | None) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    if names and loc and loc[0] in names:
        return names[loc[0]] + out[len(str(loc[0])) :]
    return out


_TYPES = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "string_type": "a string",
    "tuple_type": "a list",
    "list_type": "a list",
    "dict_type": "an object",
    "dataclass_type": "an object",
    "dataclass_args_type": "an object",
    "missing": "a value (it is required)",
    "missing_argument": "a value (it is required)",
    "unexpected_keyword_argument": "no such key",
    "extra_forbidden": "no such key",
}
_BOUNDS = {
    "greater_than_equal": ("≥", "ge"),
    "greater_than": (">", "gt"),
    "less_than_equal": ("≤", "le"),
    "less_than": ("<", "lt"),
}


def _expected(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _BOUNDS:
        word, key = _BOUNDS[kind]
        return f"a value {word} {_number(ctx[key])}"
    if kind == "literal_error":
        return f"one of {ctx['expected']}"
    if kind == "too_short":
        return f"at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return f"at most {ctx.get('max_length')} item(s)"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"])).removeprefix("Value error, ")
    return _TYPES.get(kind, error["msg"][0].lower() + error["msg"][1:])


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def explain(error: ValidationError, where: str = "", names: dict | None = None) -> str:
    """One line for a pydantic ``ValidationError``: its first problem as
    ``<where><field>: expected <what>, found <value>``; ``names`` maps top-level fields to the
    words the user typed (command-line flags)."""
    first = error.errors(include_url=False)[0]
    place = _location(first["loc"], names)
    if first["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
        head, _, key = place.rpartition(".")
        return f"{(where + head) if head else (where.rstrip('.') or 'config')}: unknown key {key!r}"
    if first["type"] == "value_error" and not place:
        return f"{where.rstrip('.') or 'config'}: {_expected(first)}"
    found = "" if first["type"] in ("missing", "missing_argument") else f", found {_shown(first['input'])}"
    return f"{where}{place}: expected {_expected(first)}{found}"


# ----------------------------------------------------------------------------- command line


def _meta(cls, name: str) -> tuple[Any, dict, Any]:
    """(annotation, option metadata, default) of field ``name`` of config class ``cls``."""
    info = cls.__pydantic_fields__[name]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    default = next(f.default for f in fields(cls) if f.name == name)
    if default is MISSING:
        default = None
    meta = {"description": info.description or "", **extra}
    for item in [*info.metadata, *_inner_metadata(info.annotation)]:  # annotated-types constraints
        for key in ("ge", "gt", "le", "lt"):
            if hasattr(item, key):
                meta[key] = getattr(item, key)
    return info.annotation, meta, default


def _inner_metadata(annotation) -> list:
    """Constraints inside ``Optional[Annotated[int, Field(ge=…)]]`` (an optional field's range)."""
    out = []
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is Annotated:
            for item in typing.get_args(arg)[1:]:
                out += getattr(item, "metadata", [item])
    return out


def _core(annotation):
    """(base type, optional?, tuple?, literal choices) of a field annotation."""
    optional = tuple_ = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional, annotation = True, args[0]
        elif origin is tuple:
            tuple_, annotation = True, typing.get_args(annotation)[0]
        elif origin is Literal:
            return str, optional, tuple_, list(typing.get_args(annotation))
        else:
            return annotation, optional, tuple_, None


def flag_of(cls, name: str) -> str:
    """The command-line flag of field ``name`` of ``cls``."""
    _, meta, _ = _meta(cls, name)
    return meta.get("negate") or meta.get("flag") or "--" + name.replace("_", "-")


def _range_text(meta: dict) -> str:
    """ "≥ 1, ≤ 512" from a field's bounds (bounds beyond 2**62 only say "fits in 64 bits")."""
    words = (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"))
    return ", ".join(
        f"{word} {_number(meta[key])}" for key, word in words if key in meta and meta[key] < 2**62
    )


def _number(value) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _help(meta: dict, default) -> str:
    if isinstance(default, str) and meta.get("preset_text"):
        shown = default
    elif meta.get("default_text") is not None:
        shown = meta["default_text"]
    elif isinstance(default, (tuple, list)):
        shown = " ".join(_number(v) for v in default)
    elif default is None:
        shown = "none"
    else:
        shown = _number(default) if isinstance(default, (int, float)) else str(default)
    unit = f", in {meta['unit']}" if meta.get("unit") else ""
    ranges = _range_text(meta)
    return f"{meta['description']}{unit} (default: {shown}{'; ' + ranges if ranges else ''})"


def add_options(parser, cls, names, *, defaults: dict | None = None) -> None:
    """Add an option for each field in ``names`` of config class ``cls`` to ``parser``.

    Types, choices (``Literal`` fields), ``nargs`` (tuple fields) and the help text (description,
    default, unit, range) come from the class; ``defaults`` overrides the default shown in the
    help (e.g. a preset's, as text). A field whose ``flag`` has no leading dash is a positional
    argument. Parsed values default to None (unset), so :func:`from_args` keeps the class's (or
    a preset's) defaults for options not given.
    """
    for name in names:
        annotation, meta, default = _meta(cls, name)
        if defaults and name in defaults:
            default, meta = defaults[name], meta | {"preset_text": True}
        base, _, is_tuple, choices = _core(annotation)
        flag = flag_of(cls, name)
        help_text = _help(meta, default)
        if base is bool:  # a switch: --absolute sets relative=False, --x sets x=True
            negated = meta.get("negate") is not None
            parser.add_argument(
                flag,
                dest=name,
                action="store_const",
                const=not negated,
                default=None,
                help=meta["description"],
            )
            continue
        kwargs = {"help": help_text}
        if flag.startswith("-"):
            kwargs |= {"dest": name, "default": None}
        else:  # a positional argument: required, so no default to show
            kwargs["help"] = meta["description"]
        if choices is not None:
            kwargs["choices"] = choices
        elif base in (int, float):
            kwargs["type"] = base
            kwargs["metavar"] = "N" if base is int else "X"
        if is_tuple:
            kwargs["nargs"] = "+"
        parser.add_argument(flag, **kwargs)


def from_args(cls, args, names, *, base: dict | None = None):
    """Build ``cls`` from ``base`` (e.g. a preset's values) updated with the options in ``names``
    that were given on the command line; a refusal names the flag.

    Raises
    ------
    InputError
        A value out of range or of the wrong type: ``--flag: expected …, found …``.
    """
    values = dict(base or {})
    for name in names:
        value = getattr(args, name, None)
        if value is not None:
            values[name] = tuple(value) if isinstance(value, list) else value
    try:
        return cls.__pydantic_validator__.validate_python(values)
    except ValidationError as error:
        raise InputError(explain(error, names={n: flag_of(cls, n) for n in names})) from None


def parse(cls, data, where: str = ""):
    """Build ``cls`` from a JSON object ``data`` (a spec file's, a checkpoint's); refusals are
    one-line ``ValueError`` s naming ``where`` and the field."""
    if not isinstance(data, dict):
        raise ValueError(f"{where.rstrip('.') or 'config'}: expected an object, found {type(data).__name__}")
    try:
        return cls.__pydantic_validator__.validate_python(data)
    except ValidationError as error:
        raise ValueError(explain(error, where)) from None
