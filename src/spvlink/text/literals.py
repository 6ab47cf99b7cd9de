"""Numbers and strings as SPIRV-Tools prints and parses them.

Printing follows SPIRV-Tools' `EmitNumericLiteral`: integers in decimal (signed or
unsigned by type); 32- and 64-bit floats that are zero or normal in `%.9g` / `%.17g`
(C++ `max_digits10`), everything else (denormals, infinities, NaNs) and every 16-bit
float as a hex float (`0x1.8p+128`), with the fraction's trailing zero nibbles dropped.

Parsing follows spirv-as: integers in C's base-0 syntax (decimal, `0x` hex, leading-0
octal) with range checks; decimal floats rounded to nearest (16-bit ones: to a 32-bit
float first, then towards zero); hex floats truncated towards zero, an exponent past
the largest finite one giving infinity or (with fraction bits) a NaN.
"""

from __future__ import annotations

import re
import struct
from fractions import Fraction

from .._words import MAX_WORD_COUNT
from ..grammar.walk import literal_words

# (exponent bits, fraction bits) per float width.
FLOAT_FORMATS = {16: (5, 10), 32: (8, 23), 64: (11, 52)}


# ---------------------------------------------------------------------------------------
# Printing


def hex_float(bits: int, width: int) -> str:
    """SPIRV-Tools' HexFloat printing of the raw bits of a float of `width` bits."""
    exp_bits, frac_bits = FLOAT_FORMATS[width]
    nibbles = (frac_bits + 3) // 4
    overflow = nibbles * 4 - frac_bits
    bias = (1 << (exp_bits - 1)) - 1
    sign = "-" if (bits >> (width - 1)) & 1 else ""
    exponent = (bits >> frac_bits) & ((1 << exp_bits) - 1)
    fraction = (bits & ((1 << frac_bits) - 1)) << overflow
    is_zero = exponent == 0 and fraction == 0
    int_exp = 0 if is_zero else exponent - bias
    if exponent == 0 and not is_zero:
        top = 1 << (nibbles * 4 - 1)
        while not fraction & top:
            fraction <<= 1
            int_exp -= 1
        fraction = (fraction << 1) & ((1 << (nibbles * 4)) - 1)
    while nibbles and not fraction & 0xF:
        fraction >>= 4
        nibbles -= 1
    out = f"{sign}0x{'0' if is_zero else '1'}"
    if nibbles:
        out += f".{fraction:0{nibbles}x}"
    return f"{out}p{'+' if int_exp >= 0 else ''}{int_exp}"


def format_float(bits: int, width: int) -> str:
    if width == 32:
        exponent = (bits >> 23) & 0xFF
        if exponent == 0xFF or (exponent == 0 and bits & 0x7FFFFF):
            return hex_float(bits, 32)
        value = struct.unpack("<f", struct.pack("<I", bits))[0]
        return f"{value:.9g}"
    if width == 64:
        exponent = (bits >> 52) & 0x7FF
        if exponent == 0x7FF or (exponent == 0 and bits & ((1 << 52) - 1)):
            return hex_float(bits, 64)
        value = struct.unpack("<d", struct.pack("<Q", bits))[0]
        return f"{value:.17g}"
    if width == 16:
        return hex_float(bits & 0xFFFF, 16)
    return str(bits)


def format_number(words: tuple[int, ...] | list[int], kind: str, width: int) -> str:
    """A typed literal: kind is 'u', 's' or 'f'; words are low-order first."""
    bits = 0
    for k, w in enumerate(words):
        bits |= w << (32 * k)
    if kind == "f":
        return format_float(bits, width)
    if kind == "s":
        nbits = 32 * len(words)
        if bits >> (nbits - 1):
            bits -= 1 << nbits
    return str(bits)


def quote_string(text: str) -> str:
    """A string operand as spirv-dis prints it: only `"` and `\\` are escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------------------------------
# Parsing

_INT_RE = re.compile(r"[+-]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\Z")
_HEX_FLOAT_RE = re.compile(
    r"([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?\Z")
_DEC_FLOAT_RE = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z")


# Literals longer than this are refused: far more digits than any integer width or float
# needs, far fewer than what turning them into numbers would cost.
MAX_LITERAL_CHARS = 2000
# Decimal exponents beyond this are out of every float format's range (a 64-bit float's
# largest is about 1.8e308, its smallest denormal about 4.9e-324).
_MAX_DECIMAL_EXPONENT = 400


class LiteralError(ValueError):
    pass


def parse_c_integer(text: str) -> tuple[int, bool]:
    """An integer in C's base-0 syntax; returns (value, written in hex)."""
    if len(text) > MAX_LITERAL_CHARS:
        raise LiteralError(f"integer literal of {len(text)} characters (at most "
                           f"{MAX_LITERAL_CHARS})")
    if not _INT_RE.match(text):
        raise LiteralError(f"invalid integer literal: {text}")
    neg = text[0] == "-"
    body = text.lstrip("+-")
    if body[:2] in ("0x", "0X"):
        value, is_hex = int(body[2:], 16), True
    elif len(body) > 1 and body[0] == "0":
        value, is_hex = int(body, 8), False
    else:
        value, is_hex = int(body), False
    return (-value if neg else value), is_hex


def encode_integer(text: str, width: int, signed: bool) -> list[int]:
    """Words (low first) of an integer literal for an integer type, as spirv-as checks it.

    Widths over 64 bits (SPV_INTEL_arbitrary_precision_integers), which spirv-as refuses,
    take whole words the same way: sign- or zero-extended to the last word's top bit."""
    if width < 1:
        raise LiteralError(f"unsupported {width}-bit integer literals")
    n_words = literal_words(width)
    if n_words > MAX_WORD_COUNT:
        # The type's width is the input's claim: refused before any number that big is built.
        raise LiteralError(f"a {width}-bit literal takes {n_words} words, more than an "
                           f"instruction holds ({MAX_WORD_COUNT})")
    all_bits = (1 << (32 * n_words)) - 1
    value, is_hex = parse_c_integer(text)
    if value < 0 and not signed:
        raise LiteralError("cannot put a negative number in an unsigned literal")
    kind = "signed" if signed else "unsigned"
    if value < 0:
        if value < -(1 << (width - 1)):
            raise LiteralError(f"integer {text} does not fit in a {width}-bit {kind} integer")
        bits = value & all_bits
    elif is_hex:
        if value >> width:
            raise LiteralError(f"integer {text} does not fit in a {width}-bit {kind} integer")
        bits = value
        if signed and value >> (width - 1):  # sign-extend a hex value into the word(s)
            bits = value | (all_bits ^ ((1 << width) - 1))
    else:
        limit = 1 << (width - 1 if signed else width)
        if value >= limit:
            raise LiteralError(f"integer {text} does not fit in a {width}-bit {kind} integer")
        bits = value
    return [(bits >> (32 * k)) & 0xFFFFFFFF for k in range(n_words)]


def encode_literal_integer(text: str) -> int:
    """A plain 32-bit LiteralInteger operand (unsigned, as spirv-as has it)."""
    return encode_integer(text, 32, False)[0]


def _pack(neg: bool, value: Fraction, width: int, *, nearest: bool) -> int:
    """Bits of `value` (>= 0) in the float format, rounded to nearest-even or to zero;
    a value past the largest finite one becomes infinity (nearest: an error)."""
    exp_bits, frac_bits = FLOAT_FORMATS[width]
    bias = (1 << (exp_bits - 1)) - 1
    sign = (1 << (width - 1)) if neg else 0
    if value == 0:
        return sign
    # Binary exponent e with 2**e <= value < 2**(e+1).
    e = value.numerator.bit_length() - value.denominator.bit_length()
    if Fraction(2) ** e > value:
        e -= 1
    e = max(e, 1 - bias)  # denormals share the smallest exponent
    scaled = value / (Fraction(2) ** (e - frac_bits))  # mantissa with frac_bits fraction bits
    mant = scaled.numerator // scaled.denominator
    rest = scaled - mant
    if nearest and (rest > Fraction(1, 2) or (rest == Fraction(1, 2) and mant & 1)):
        mant += 1
        if mant >> (frac_bits + 1):
            mant >>= 1
            e += 1
    if mant >> frac_bits == 0:  # denormal (or rounded up into the smallest normal)
        return sign | mant
    if e > bias:
        if nearest:
            raise LiteralError("out of range")
        return sign | (((1 << exp_bits) - 1) << frac_bits)
    return sign | ((e + bias) << frac_bits) | (mant & ((1 << frac_bits) - 1))


def _hex_float_bits(m: re.Match[str], width: int) -> int:
    exp_bits, frac_bits = FLOAT_FORMATS[width]
    bias = (1 << (exp_bits - 1)) - 1
    neg = m.group(1) == "-"
    int_part, frac_part = m.group(2) or "", m.group(3) or ""
    if not int_part and not frac_part:
        raise LiteralError("no digits")
    mant = int(int_part + frac_part or "0", 16)
    exp = int(m.group(4) or "0") - 4 * len(frac_part)
    sign = (1 << (width - 1)) if neg else 0
    if mant == 0:
        return sign
    top = mant.bit_length() - 1
    e = exp + top  # value = 1.f * 2**e
    if e < -bias - frac_bits - 1:
        return sign  # below the smallest denormal: truncated to zero
    if e > bias:
        # Infinity, or a NaN keeping the fraction bits written (spirv-dis prints them so).
        frac = mant - (1 << top)
        frac = frac >> (top - frac_bits) if top > frac_bits else frac << (frac_bits - top)
        return sign | (((1 << exp_bits) - 1) << frac_bits) | frac
    return _pack(neg, Fraction(mant) * Fraction(2) ** exp, width, nearest=False)


def encode_float(text: str, width: int) -> list[int]:
    """Words (low first) of a float literal for a float type of `width` bits."""
    if width not in FLOAT_FORMATS:
        raise LiteralError(f"unsupported {width}-bit float literals")
    m = _HEX_FLOAT_RE.match(text)
    if m and len(text) > MAX_LITERAL_CHARS:
        raise LiteralError(f"invalid {width}-bit float literal: {text[:40]}")
    if m:
        bits = _hex_float_bits(m, width)
    else:
        dm = _DEC_FLOAT_RE.match(text)
        if not dm or len(text) > MAX_LITERAL_CHARS:
            raise LiteralError(f"invalid {width}-bit float literal: {text[:40]}")
        neg = text.startswith("-")
        # Decide far-out exponents before building the exact value (10**exponent).
        whole, _, fraction = dm.group(1).partition(".")
        whole = whole.lstrip("0")
        # The decimal magnitude: the value is below 10**magnitude and at least a tenth of it.
        magnitude = (int(dm.group(2)[1:]) if dm.group(2) else 0) + (
            len(whole) if whole else -(len(fraction) - len(fraction.lstrip("0"))))
        if (whole or fraction.strip("0")) and magnitude > _MAX_DECIMAL_EXPONENT:
            raise LiteralError(f"invalid {width}-bit float literal: {text[:40]}")
        if not (whole or fraction.strip("0")) or magnitude < -_MAX_DECIMAL_EXPONENT:
            value = Fraction(0)  # rounds to zero in every format
        else:
            value = Fraction(text.lstrip("+-"))
        try:
            if width == 16:
                # spirv-as reads a 32-bit float, then narrows it towards zero.
                f32 = _pack(neg, value, 32, nearest=True)
                exponent = (f32 >> 23) & 0xFF
                mag = Fraction(struct.unpack("<f", struct.pack("<I", f32 & 0x7FFFFFFF))[0])
                if exponent == 0xFF or mag >= 65536:
                    raise LiteralError("out of range")
                bits = _pack(neg, mag, 16, nearest=False)
            else:
                bits = _pack(neg, value, width, nearest=True)
        except LiteralError:
            raise LiteralError(f"invalid {width}-bit float literal: {text}") from None
    if width == 64:
        return [bits & 0xFFFFFFFF, bits >> 32]
    return [bits]


def unescape_string(body: str) -> str:
    """The contents of a quoted string token (quotes removed): `\\x` stands for `x`."""
    if "\\" not in body:
        return body
    out = []
    i = 0
    n = len(body)
    while i < n:
        c = body[i]
        if c == "\\" and i + 1 < n:
            out.append(body[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)
