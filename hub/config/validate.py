"""Build frozen dataclasses from plain YAML data, with errors a person can act on.

Runs on the main thread at start-up and on reload. Pure: no I/O.

Every error names the file the key came from, the key path, what was expected and what was
found; an unknown key lists the valid ones. Field metadata refines a field:
``key`` (the YAML name when it differs from the attribute; one starting with ``__`` is internal,
set by the loader and never listed among the valid keys), ``normalize`` (a callable applied to
the converted value, e.g. ``str.upper``), ``check`` (a callable that raises ``ValueError`` with
what was expected), ``doc`` (shown by ``consumer-hub check``).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from hub.errors import ConfigError

T = TypeVar("T")

# Where each key path came from: ("consumers", "badges") -> "/etc/consumer-hub/hub.d/10-badges.yaml"
Origins = Mapping[tuple[str, ...], str]


class Builder:
    """Turns a nested mapping into dataclass instances, collecting origins for error messages."""

    def __init__(self, origins: Origins, default_source: str) -> None:
        self.origins = origins
        self.default_source = default_source

    def error(self, path: tuple[str, ...], text: str) -> ConfigError:
        """A ConfigError naming the file that set ``path`` (or its nearest parent)."""
        source = self.default_source
        for end in range(len(path), -1, -1):
            if path[:end] in self.origins:
                source = self.origins[path[:end]]
                break
        where = ".".join(path) or "(top level)"
        return ConfigError(f"{source}: {where}: {text}")

    def build(self, cls: type[T], data: Any, path: tuple[str, ...] = ()) -> T:
        """Build dataclass ``cls`` from ``data``; raise ConfigError on the first problem."""
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise self.error(path, f"expected a mapping, got {describe(data)}")
        fields = {f.metadata.get("key", f.name): f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
        unknown = sorted(str(k) for k in data if k not in fields)
        if unknown:
            valid = ", ".join(sorted(k for k in fields if not k.startswith("__")))  # internal
            raise self.error((*path, unknown[0]), f"unknown key; valid keys are: {valid}")
        hints = typing.get_type_hints(cls)
        kwargs = {}
        for key, f in fields.items():
            if key in data:
                kwargs[f.name] = self.field(f, hints[f.name], data[key], (*path, key))
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise self.error((*path, key), "required key is missing")
        return cls(**kwargs)

    def field(self, f: dataclasses.Field[Any], hint: Any, raw: Any, path: tuple[str, ...]) -> Any:
        """One field's value: converted, normalised (``normalize``), checked (``check``)."""
        value = self.convert(hint, raw, path)
        normalize: Callable[[Any], Any] | None = f.metadata.get("normalize")
        if normalize is not None:
            value = normalize(value)
        check: Callable[[Any], None] | None = f.metadata.get("check")
        if check is not None:
            try:
                check(value)
            except ValueError as exc:
                raise self.error(path, f"expected {exc}, got {raw!r}") from None
        return value

    def convert(self, hint: Any, value: Any, path: tuple[str, ...]) -> Any:
        """Check ``value`` against the type ``hint`` and convert containers to frozen ones."""
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            if value is None and type(None) in args:
                return None
            inner = [a for a in args if a is not type(None)]
            return self.convert(inner[0], value, path)
        if dataclasses.is_dataclass(hint):
            return self.build(hint, value, path)  # type: ignore[arg-type]
        if origin is tuple:
            if not isinstance(value, list):
                raise self.error(path, f"expected a list, got {describe(value)}")
            return tuple(self.convert(args[0], v, (*path, str(i))) for i, v in enumerate(value))
        if origin is dict or hint is dict:
            if not isinstance(value, dict):
                raise self.error(path, f"expected a mapping, got {describe(value)}")
            item = args[1] if args else Any
            return {str(k): self.convert(item, v, (*path, str(k))) for k, v in value.items()}
        return self.scalar(hint, value, path)

    def scalar(self, hint: Any, value: Any, path: tuple[str, ...]) -> Any:
        """Check one scalar; ints are accepted where floats are expected."""
        if hint is Any:
            return value
        if hint is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if hint in (int, float) and isinstance(value, bool):
            raise self.error(path, f"expected {hint.__name__}, got {describe(value)}")
        if not isinstance(value, hint):
            raise self.error(path, f"expected {hint.__name__}, got {describe(value)}")
        return value


def describe(value: Any) -> str:
    """A short description of a YAML value for error messages."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    names = {dict: "mapping", list: "list", str: "string", bool: "boolean", type(None): "null"}
    return f"{names.get(type(value), type(value).__name__)} {text}"


def positive(kind: str = "a number") -> Callable[[Any], None]:
    """A check: the value must be greater than zero."""

    def check(value: Any) -> None:
        if value <= 0:
            raise ValueError(f"{kind} greater than 0")

    return check


def at_least(minimum: float) -> Callable[[Any], None]:
    """A check: the value must be at least ``minimum``."""

    def check(value: Any) -> None:
        if value < minimum:
            raise ValueError(f"a number of at least {minimum}")

    return check


def octal_mode() -> Callable[[Any], None]:
    """A check: the value must be a file mode in octal digits, such as "0660"."""

    def check(value: Any) -> None:
        if not (isinstance(value, str) and 3 <= len(value) <= 4 and set(value) <= set("01234567")):
            raise ValueError('a file mode in octal digits, such as "0660"')

    return check


def one_of(*choices: str) -> Callable[[Any], None]:
    """A check: the value must be one of ``choices``."""

    def check(value: Any) -> None:
        if value not in choices:
            raise ValueError("one of " + ", ".join(choices))

    return check
