"""Building blocks of the validated settings: value types with ranges, and
pydantic's errors turned into one line that names the key and what was expected."""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationError

# How a value of each Python type is named in a message about a TOML file.
_TOML_TYPES: dict[type, str] = {
    str: "text", bool: "true/false", int: "a whole number", float: "a number",
    list: "a list", tuple: "a list", dict: "a table",
}

# A key shown as it is; others (spaces, line breaks) are quoted.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_:-]+")

# pydantic error type -> what was expected, in the words of a TOML file.
_EXPECTED: dict[str, str] = {
    "float_type": "a number", "float_parsing": "a number",
    "int_type": "a whole number", "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "string_type": "text in quotes",
    "tuple_type": "a list", "list_type": "a list",
    "dict_type": "a table", "model_type": "a table", "dataclass_type": "a table",
    "finite_number": "a finite number",
    "missing": "a value (it is required)",
    "too_short": "a longer list", "too_long": "a shorter list",
}


def as_tuple(value: Any) -> Any:
    """TOML and JSON have lists where the settings hold tuples."""
    return tuple(value) if isinstance(value, list) else value


def listed(item: Any) -> Any:
    """A tuple of ``item`` that a TOML list also fills (text is not a list)."""
    return Annotated[tuple[item, ...], BeforeValidator(as_tuple)]


def bounded(kind: type, low: float | None, high: float | None, unit: str = "", *,
            low_open: bool = False) -> Any:
    """``kind`` (int or float) within ``[low, high]`` (``(low, high]`` with
    ``low_open``); the message states the range and the unit."""

    def check(value: float) -> float:
        too_low = low is not None and (value <= low if low_open else value < low)
        too_high = high is not None and value > high
        if too_low or too_high:
            raise ValueError(f"{_number(value)} is outside the range "
                             f"{describe_range(low, high, unit, low_open=low_open)}")
        return value

    return Annotated[kind, AfterValidator(check)]


def describe_range(low: float | None, high: float | None, unit: str = "", *,
                   low_open: bool = False) -> str:
    """``"above 0 and at most 30 km/h"``, ``"0 to 100,000 m"``."""
    unit = f" {unit}" if unit else ""
    if low is not None and high is not None:
        if low_open:
            return f"above {_number(low)} and at most {_number(high)}{unit}"
        return f"{_number(low)} to {_number(high)}{unit}"
    if low is not None:
        return f"{'above' if low_open else 'at least'} {_number(low)}{unit}"
    return f"at most {_number(high)}{unit}"


def _number(value: float) -> str:
    if isinstance(value, float) and (not math.isfinite(value) or abs(value) >= 1e9):
        return f"{value:g}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.6g}"
    return f"{int(value):,}"


def closest(word: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest known word, or ``""``."""
    known = list(known)
    lowered = {k.lower(): k for k in known}
    match = difflib.get_close_matches(str(word).lower(), list(lowered), n=1, cutoff=0.6)
    return f"; did you mean {lowered[match[0]]!r}?" if match else ""


def type_name(value: Any) -> str:
    """What a value is, in the words of a TOML file (``text``, ``a list``)."""
    for kind, name in _TOML_TYPES.items():
        if type(value) is kind:
            return name
    return type(value).__name__


def describe_errors(exc: ValidationError,
                    known: Sequence[str] | Callable[[tuple], Sequence[str]] = (),
                    examples: dict[str, Any] | None = None,
                    word: str = "setting") -> tuple[str | None, str]:
    """The first problem of a validation error as ``(key, message)``.

    ``key`` is the dotted path of the offending setting (``"norm_min.gp"``)
    or None for a problem between several settings; the message says what
    was expected and what was found, and counts any further problems.
    ``known`` lists the valid keys, for the closest match of an unknown one
    (or gives them for the location of the table that holds it);
    ``examples`` gives a valid value per key (dotted, or top-level), shown
    when a value has the wrong type; ``word`` is what a key is called (``"setting"``).
    """
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = [p for p in first["loc"] if p != "__root__"]
    key = "".join(f"[{p + 1}]" if isinstance(p, int)
                  else f".{p}" if _PLAIN_KEY.fullmatch(str(p)) else f"[{json.dumps(p)}]"
                  for p in loc)
    key = key.removeprefix(".") or None
    kind, value = first["type"], first.get("input")
    if kind in ("unexpected_keyword_argument", "extra_forbidden"):
        keys = known(tuple(loc[:-1])) if callable(known) else known
        message = (f"unknown {word}{closest(str(loc[-1]), keys)} "
                   f"(known: {', '.join(sorted(keys))})" if keys else f"unknown {word}")
    elif kind == "literal_error":
        expected = first.get("ctx", {}).get("expected", "")
        message = f"expected one of {expected}; got {value!r}"
    elif kind in ("value_error", "assertion_error"):
        message = str(first.get("ctx", {}).get("error", first["msg"]))
    elif kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}"
        examples = examples or {}
        example = examples.get(key, examples.get(str(loc[0]))) if loc else None
        if isinstance(example, dict) and example and kind == "dict_type":
            first_key = next(iter(example))
            message += (f" such as {{{json.dumps(first_key)}: "
                        f"{json.dumps(example[first_key])}{', ...' if len(example) > 1 else ''}}}")
        elif isinstance(example, list) and kind in ("tuple_type", "list_type"):
            message += f" such as {json.dumps(example)}"
        if kind != "missing":
            message += f"; got {value!r} ({type_name(value)})"
    else:
        message = f"{first['msg'][0].lower()}{first['msg'][1:]}; got {value!r}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return key, message
