"""`Options`: immutable, keyword-only records of options.

What `@dataclass(frozen=True, kw_only=True)` gives, for classes that every `spvlink` run
defines: generating a dataclass compiles its methods at import, 1-3 ms for a class of
many fields, which a small link notices. Type checkers see these classes as dataclasses
(`dataclass_transform`), so a misspelt option is still caught before run time.
"""

from __future__ import annotations

from typing import Any, ClassVar, dataclass_transform


@dataclass_transform(kw_only_default=True, frozen_default=True)
class Options:
    """Subclasses declare each option as an annotated class attribute with its default
    (immutable values only: defaults are shared). `__post_init__` may normalise values
    with `object.__setattr__`, as in a frozen dataclass."""

    __slots__ = ()
    _field_names: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        names: list[str] = []
        for klass in reversed(cls.__mro__):
            for name in vars(klass).get("__annotations__", {}):
                if not name.startswith("_") and name not in names:
                    names.append(name)
        cls._field_names = tuple(names)

    def __init__(self, **given: Any) -> None:
        for name, value in given.items():
            if name not in self._field_names:
                raise TypeError(f"{type(self).__name__}() got an unexpected keyword "
                                f"argument {name!r}")
            object.__setattr__(self, name, value)
        self.__post_init__()

    def __post_init__(self) -> None:
        pass

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return cls._field_names

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._field_names}

    def replace(self, **changes: Any) -> Any:
        return type(self)(**{**self.values(), **changes})

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.values() == other.values()

    def __hash__(self) -> int:
        return hash(tuple(self.values().values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.values().items())
        return f"{type(self).__name__}({fields})"
