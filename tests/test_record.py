"""Options records behave as frozen keyword-only dataclasses."""

from __future__ import annotations

import pytest

from spvlink.link import LinkOptions
from spvlink.record import Options
from spvlink.stage import StageOptions


class Base(Options):
    a: int = 1
    b: str = "x"


class Child(Base):
    c: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "b", self.b.upper())


def test_fields_defaults_and_order() -> None:
    assert Child.field_names() == ("a", "b", "c")
    o = Child(c=True)
    assert (o.a, o.b, o.c) == (1, "X", True)
    assert repr(o) == "Child(a=1, b='X', c=True)"


def test_unknown_keyword_and_positional_are_refused() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'd'"):
        Child(d=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Child(1)  # type: ignore[call-arg]


def test_immutable() -> None:
    o = Base()
    with pytest.raises(AttributeError, match="immutable"):
        o.a = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del o.a


def test_equality_hash_and_replace() -> None:
    assert Base(a=2) == Base(a=2) != Base(a=3)
    assert Base() != Child()
    assert hash(Base(a=2)) == hash(Base(a=2))
    o = Child(a=5)
    r = o.replace(c=True)
    assert (r.a, r.b, r.c) == (5, "X", True) and o.c is False


def test_real_options_check_their_values() -> None:
    assert "module_output" in StageOptions.field_names()
    assert LinkOptions(module_output="multiple").module_output == "per-entry-point"
    with pytest.raises(Exception, match="metadata"):
        LinkOptions(spirv_metadata="some")
