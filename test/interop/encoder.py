#!/usr/bin/env python3
"""Independent encoder/decoder for the schemaevo wire format, version 1.

Written from docs/wire-format.md alone (no look at src/, sql/, expected/),
Python 3 standard library only.

Usage:
  encoder.py encode SCHEMA.json < doc.json > msg.bin
  encoder.py decode SCHEMA.json < msg.bin            (prints JSON)
  encoder.py expect SCHEMA.json < doc.json           (the document a decoder
                                                      should return: defaults
                                                      applied, deprecated
                                                      fields removed, values
                                                      in canonical text form)
  encoder.py check SCHEMA.json DOC.json DECODED.json (semantic comparison of
                                                      a decoder's output with
                                                      the expected document)
  encoder.py selftest [CASES.json]                   (worked examples of the
                                                      spec + own round trip)

Exit status 0 on success, 1 on a refused document / malformed message /
mismatch, 2 on usage errors.
"""

import base64
import json
import re
import struct
import sys
from decimal import Decimal
from fractions import Fraction

MAGIC = 0xE5
MAX_ARRAY = 67108864
MAX_MESSAGE = 268435456
MAX_DEPTH = 16
MAX_NAME = 63
MAX_FIELDS = 1024
MAX_ENUM = 65535
SCHEMA_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
FIELD_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ROOT_KEYS = ("name", "version", "fields", "doc")
FIELD_KEYS = ("name", "type", "nullable", "default", "deprecated", "doc")

I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1
I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1
USEC_PER_DAY = 86400 * 1000000


class EncodeError(Exception):
    pass


class SchemaError(EncodeError):
    """The schema definition itself is refused (section 2.1)."""


class DecodeError(Exception):
    pass


# ---------------------------------------------------------------------------
# JSON helpers: numbers are kept as exact Decimal values (the spec converts
# "the number's text exactly").

def _no_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise EncodeError("duplicate object key %r" % k)
        obj[k] = v
    return obj


def json_loads(text):
    """Duplicate keys are refused (section 14: so does schemaevo-codec)."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal,
                      object_pairs_hook=_no_duplicates)


def json_dumps(v, fixed=False):
    """Serialize, writing Decimal values as their exact text (fixed=True:
    without an exponent when reasonable, as a decoder writes decimals)."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, Decimal):
        if not v.is_finite():
            return json.dumps(str(v))
        if fixed and -40 <= v.adjusted() <= 40:
            return format(v, "f")       # no exponent, trailing zeros kept
        return str(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(json_dumps(x, fixed) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(json_dumps(k) + ": " + json_dumps(x, fixed)
                               for k, x in v.items()) + "}"
    raise TypeError(type(v))


# ---------------------------------------------------------------------------
# FNV-1a 32 (section 4)

def fnv1a32(data):
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


# ---------------------------------------------------------------------------
# Schema definitions and layouts (section 2)

FIXED_PRIMITIVES = {
    "bool": 1, "int8": 1, "int16": 2, "int32": 4, "int64": 8,
    "float32": 4, "float64": 8, "timestamp": 8, "date": 4, "uuid": 16,
}
INT_RANGES = {
    "int8": (-(1 << 7), (1 << 7) - 1),
    "int16": (-(1 << 15), (1 << 15) - 1),
    "int32": (I32_MIN, I32_MAX),
    "int64": (I64_MIN, I64_MAX),
}
INT_FORMATS = {"int8": "<b", "int16": "<h", "int32": "<i", "int64": "<q"}


class Type:
    """kind: a primitive name, 'fixed', 'decimal', 'enum', 'string',
    'bytes', 'array' or 'record'.  size: bytes for fixed-size types, None
    for variable-length ones."""

    def __init__(self, kind, size, **kw):
        self.kind = kind
        self.size = size
        self.n = kw.get("n")                # fixed(N)
        self.p = kw.get("p")                # decimal(p,s)
        self.s = kw.get("s")
        self.symbols = kw.get("symbols")    # enum
        self.elem = kw.get("elem")          # array
        self.record = kw.get("record")      # record (a Record)

    @property
    def fixed(self):
        return self.size is not None

    def __repr__(self):
        return "Type(%s)" % self.kind


class Field:
    def __init__(self, name, type_, nullable, deprecated, has_default,
                 default):
        self.name = name
        self.type = type_
        self.nullable = nullable
        self.deprecated = deprecated
        self.has_default = has_default
        self.default = default
        self.ordinal = None
        self.offset = None
        self.var_index = None


class Record:
    def __init__(self, fields):
        self.fields = fields
        offset = 0
        nvar = 0
        names = set()
        for i, f in enumerate(fields):
            if f.name in names:
                raise SchemaError("duplicate field name %r" % f.name)
            names.add(f.name)
            f.ordinal = i
            if f.type.fixed:
                f.offset = offset
                offset += f.type.size
            else:
                f.var_index = nvar
                nvar += 1
        self.fixed_length = offset
        self.field_count = len(fields)
        if self.field_count > 0xFFFF:
            raise SchemaError("too many fields")
        self.bitmap_length = (self.field_count + 7) // 8
        self.by_name = {f.name: f for f in fields}


class Schema:
    def __init__(self, name, version, record):
        self.name = name
        self.version = version
        self.record = record
        self.name_hash = fnv1a32(name.encode("utf-8"))


def parse_type(t, depth=0):
    """Section 2.1.  depth: the number of array/record constructors around
    t, counted from the top-level field (the root record is not counted)."""
    if isinstance(t, str):
        if t in FIXED_PRIMITIVES:
            return Type(t, FIXED_PRIMITIVES[t])
        if t in ("string", "bytes"):
            return Type(t, None)
        # only U+0020 spaces, 1 to 7 ASCII digits per argument
        m = re.fullmatch(r"fixed\( *([0-9]{1,7}) *\)", t)
        if m:
            n = int(m.group(1))
            if not 1 <= n <= 65536:
                raise SchemaError("fixed size %d is not between 1 and 65536"
                                  % n)
            return Type("fixed", n, n=n)
        m = re.fullmatch(r"decimal\( *([0-9]{1,7}) *, *([0-9]{1,7}) *\)", t)
        if m:
            p, s = int(m.group(1)), int(m.group(2))
            if not (1 <= p <= 18 and 0 <= s <= p):
                raise SchemaError("decimal(p,s) needs 1<=p<=18, 0<=s<=p")
            return Type("decimal", 8, p=p, s=s)
        raise SchemaError("unknown type %r" % t)
    if isinstance(t, dict) and len(t) == 1:
        (k, v), = t.items()
        if k == "enum":
            if (not isinstance(v, list) or not v
                    or not all(isinstance(x, str) and x for x in v)):
                raise SchemaError('"enum" must be a non-empty array of '
                                  'non-empty strings')
            if len(v) > MAX_ENUM:
                raise SchemaError("enum has %d symbols (max %d)"
                                  % (len(v), MAX_ENUM))
            if len(set(v)) != len(v):
                raise SchemaError("enum symbol repeated")
            return Type("enum", 2, symbols=list(v))
        if k in ("array", "record") and depth + 1 > MAX_DEPTH:
            raise SchemaError("types nest deeper than %d levels" % MAX_DEPTH)
        if k == "array":
            return Type("array", None, elem=parse_type(v, depth + 1))
        if k == "record":
            return Type("record", None, record=parse_fields(v, depth + 1))
    raise SchemaError("unknown type %r" % (t,))


def parse_flag(fd, key):
    v = fd.get(key, False)
    if v is not True and v is not False:
        raise SchemaError("%r of field %r must be a boolean"
                          % (key, fd.get("name")))
    return v


def check_name(name, regex, what):
    if (not isinstance(name, str) or not regex.fullmatch(name)
            or not name.isascii()):
        raise SchemaError("invalid %s name %r" % (what, name))
    if len(name.encode("utf-8")) > MAX_NAME:
        raise SchemaError("%s name exceeds %d bytes" % (what, MAX_NAME))


def check_doc(obj):
    if "doc" in obj and not isinstance(obj["doc"], str):
        raise SchemaError('"doc" must be a string')


def parse_fields(lst, depth=0):
    if not isinstance(lst, list):
        raise SchemaError("fields must be an array")
    if not lst:
        raise SchemaError("a record needs at least one field")
    if len(lst) > MAX_FIELDS:
        raise SchemaError("record has %d fields (max %d)"
                          % (len(lst), MAX_FIELDS))
    fields = []
    for fd in lst:
        if not isinstance(fd, dict):
            raise SchemaError("field must be an object: %r" % (fd,))
        check_name(fd.get("name"), FIELD_NAME_RE, "field")
        for key in fd:
            if key not in FIELD_KEYS:
                raise SchemaError("unknown key %r in field %r"
                                  % (key, fd["name"]))
        check_doc(fd)
        if "type" not in fd:
            raise SchemaError('field %r has no "type"' % fd["name"])
        f = Field(fd["name"], parse_type(fd["type"], depth),
                  parse_flag(fd, "nullable"), parse_flag(fd, "deprecated"),
                  "default" in fd and fd["default"] is not None,
                  fd.get("default"))
        if "default" in fd and fd["default"] is None and not (
                f.nullable or f.deprecated):
            raise SchemaError("invalid default: null for a non-nullable "
                              "field %r" % f.name)
        if f.has_default:
            # a default must be a value the encoder accepts for the type
            # (nested defaults and nullability apply inside it)
            try:
                canon_value(f.type, f.default)
            except SchemaError:
                raise
            except EncodeError as e:
                raise SchemaError("invalid default of %r: %s" % (f.name, e))
        fields.append(f)
    return Record(fields)


def check_no_nul(v):
    """U+0000 is refused anywhere in a definition (section 2.1)."""
    if isinstance(v, str):
        if "\x00" in v:
            raise SchemaError("definition contains U+0000")
    elif isinstance(v, list):
        for x in v:
            check_no_nul(x)
    elif isinstance(v, dict):
        for k, x in v.items():
            check_no_nul(k)
            check_no_nul(x)


def parse_schema(defn, version=None):
    """version: for the worked examples, which are registered as NAME@1
    although their definitions state no version."""
    if not isinstance(defn, dict):
        raise SchemaError("definition must be a JSON object")
    check_no_nul(defn)
    for key in defn:
        if key not in ROOT_KEYS:
            raise SchemaError("unknown key %r" % key)
    name = defn.get("name")
    check_name(name, SCHEMA_NAME_RE, "schema")
    check_doc(defn)
    if version is None and "version" in defn:
        version = defn["version"]
        # an integer literal (no fraction, no exponent) 1 .. 2^31-1
        if (isinstance(version, bool) or not isinstance(version, Decimal)
                or version.as_tuple().exponent != 0
                or not 1 <= version <= I32_MAX):
            raise SchemaError('"version" must be an integer between 1 and %d'
                              % I32_MAX)
    elif version is None:
        # No registry offline: schema_version 0 (section 2.1).
        version = 0
    if "fields" not in defn:
        raise SchemaError('definition needs "fields"')
    return Schema(name, int(version), parse_fields(defn["fields"]))


def load_schema(path):
    with open(path, "rb") as fh:
        text = fh.read().decode("utf-8")
    try:
        defn = json_loads(text)
    except (EncodeError, ValueError) as e:
        raise SchemaError("invalid JSON: %s" % e)
    return parse_schema(defn)


# ---------------------------------------------------------------------------
# Calendar (proleptic Gregorian, astronomical years)

def days_from_civil(y, m, d):
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return y + (m <= 2), m, d


def is_leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def month_days(y, m):
    if m == 2:
        return 29 if is_leap(y) else 28
    return 30 if m in (4, 6, 9, 11) else 31


DATE_RE = r"(\d{4}|[+-]\d{6,9})-(\d{2})-(\d{2})"
TS_RE = re.compile(DATE_RE + r"[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?"
                   r"(Z|[+-]\d{2}:\d{2})")


def parse_date_parts(ys, ms, ds, what):
    y, m, d = int(ys), int(ms), int(ds)
    if not 1 <= m <= 12 or not 1 <= d <= month_days(y, m):
        raise EncodeError("%s: no such date" % what)
    return days_from_civil(y, m, d)


def parse_date(s):
    if not isinstance(s, str):
        raise EncodeError("date must be a string")
    m = re.fullmatch(DATE_RE, s, flags=re.ASCII)
    if not m:
        raise EncodeError("invalid date %r" % s)
    days = parse_date_parts(m.group(1), m.group(2), m.group(3), s)
    if not I32_MIN <= days <= I32_MAX:
        raise EncodeError("date %r is out of range" % s)
    return days


def parse_timestamp(s):
    if not isinstance(s, str):
        raise EncodeError("timestamp must be a string")
    m = TS_RE.fullmatch(s)
    if not m or not s.isascii():
        raise EncodeError("invalid timestamp %r" % s)
    days = parse_date_parts(m.group(1), m.group(2), m.group(3), s)
    hh, mi, ss = int(m.group(4)), int(m.group(5)), int(m.group(6))
    if hh > 23 or mi > 59 or ss > 59:
        raise EncodeError("invalid time in %r" % s)
    frac = m.group(7) or ""
    usec = int((frac + "000000")[:6])
    zone = m.group(8)
    off = 0
    if zone != "Z":
        zh, zm = int(zone[1:3]), int(zone[4:6])
        # section 5: offset 00:00 to 23:59
        if zh > 23 or zm > 59:
            raise EncodeError("invalid zone in %r" % s)
        off = (zh * 3600 + zm * 60) * (1 if zone[0] == "+" else -1)
    secs = days * 86400 + hh * 3600 + mi * 60 + ss - off
    v = secs * 1000000 + usec
    if not I64_MIN <= v <= I64_MAX:
        raise EncodeError("timestamp %r is out of range" % s)
    return v


def fmt_year(y):
    if 0 <= y <= 9999:
        return "%04d" % y
    return ("-" if y < 0 else "+") + "%06d" % abs(y)


def fmt_date(days):
    y, m, d = civil_from_days(days)
    return "%s-%02d-%02d" % (fmt_year(y), m, d)


def fmt_timestamp(us):
    days, rem = divmod(us, USEC_PER_DAY)
    secs, usec = divmod(rem, 1000000)
    return "%sT%02d:%02d:%02d.%06dZ" % (fmt_date(days), secs // 3600,
                                        secs // 60 % 60, secs % 60, usec)


# ---------------------------------------------------------------------------
# Numbers

def as_number(v, what):
    if isinstance(v, bool) or not isinstance(v, Decimal) or not v.is_finite():
        raise EncodeError("%s needs a JSON number, got %r" % (what, v))
    return v


def decimal_is_integral(v):
    sign, digits, exp = v.as_tuple()
    if exp >= 0:
        return True
    return all(d == 0 for d in digits[exp:]) if -exp <= len(digits) else \
        all(d == 0 for d in digits)


def to_int(v, kind):
    v = as_number(v, kind)
    lo, hi = INT_RANGES[kind]
    if v < lo or v > hi:
        raise EncodeError("%s is out of range for %s" % (v, kind))
    if not decimal_is_integral(v):
        raise EncodeError("%s is not an integer" % v)
    return int(v)


FLOAT_SPECIALS = ("NaN", "Infinity", "-Infinity")


def round_binary(v, mant_bits, exp_bits):
    """Correctly round the exact Decimal v (finite) to an IEEE binary format
    with mant_bits stored mantissa bits.  Returns the bit pattern; raises
    EncodeError on overflow."""
    total = 1 + exp_bits + mant_bits
    bias = (1 << (exp_bits - 1)) - 1
    emin, emax = 1 - bias, bias
    p = mant_bits + 1
    sign = 1 if v.is_signed() else 0
    a = v.copy_abs()          # abs() would round to the context precision
    if a == 0 or a < Decimal("1e-400"):
        return sign << (total - 1)
    if a > Decimal("1e400"):
        raise EncodeError("value is out of range")
    fa = Fraction(a)
    e = fa.numerator.bit_length() - fa.denominator.bit_length()
    if Fraction(2) ** e > fa:
        e -= 1
    # now 2^e <= fa < 2^(e+1)
    if e < emin:
        e = emin
    m = fa * Fraction(2) ** (p - 1 - e)
    M = round(m)                      # half to even
    if M >= (1 << p):
        M >>= 1
        e += 1
    if e > emax:
        raise EncodeError("value is out of range")
    if M < (1 << (p - 1)):            # subnormal (or zero)
        biased = 0
        frac = M
    else:
        biased = e + bias
        frac = M - (1 << (p - 1))
    return (sign << (total - 1)) | (biased << mant_bits) | frac


def float_bits(v, kind):
    """JSON value -> bit pattern for float32/float64."""
    bits32 = kind == "float32"
    if isinstance(v, str):
        if v == "NaN":
            return 0x7FC00000 if bits32 else 0x7FF8000000000000
        if v == "Infinity":
            return 0x7F800000 if bits32 else 0x7FF0000000000000
        if v == "-Infinity":
            return 0xFF800000 if bits32 else 0xFFF0000000000000
        raise EncodeError("%r is not a number" % v)
    v = as_number(v, kind)
    try:
        if bits32:
            return round_binary(v, 23, 8)
        return round_binary(v, 52, 11)
    except EncodeError:
        raise EncodeError("value is out of range for %s" % kind)


def bits_to_float(bits, kind):
    if kind == "float32":
        return struct.unpack("<f", struct.pack("<I", bits))[0]
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def float_text(bits, kind):
    """Canonical JSON value of a float: shortest round-tripping text."""
    x = bits_to_float(bits, kind)
    if x != x:
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "Infinity" if x > 0 else "-Infinity"
    if kind == "float64":
        return Decimal(repr(x))
    for digits in range(1, 10):
        t = Decimal("%.*e" % (digits - 1, x))
        try:
            if round_binary(t, 23, 8) == bits:
                return t
        except EncodeError:         # rounded past the largest float32
            pass
    return Decimal(repr(x))


def to_decimal_unscaled(v, p, s):
    v = as_number(v, "decimal")
    if v != 0 and v.adjusted() > 40:
        raise EncodeError("%s exceeds decimal(%d,%d)" % (v, p, s))
    u = v.scaleb(s, context=_big_context())
    if not decimal_is_integral(u):
        raise EncodeError("%s has more than %d fractional digits" % (v, s))
    iu = int(u)
    if abs(iu) >= 10 ** p:
        raise EncodeError("%s exceeds decimal(%d,%d)" % (v, p, s))
    return iu


def _big_context():
    import decimal
    return decimal.Context(prec=10000, Emax=decimal.MAX_EMAX,
                           Emin=decimal.MIN_EMIN)


def decimal_text(u, s):
    neg = u < 0
    digits = str(abs(u))
    if s > 0:
        digits = digits.rjust(s + 1, "0")
        digits = digits[:-s] + "." + digits[-s:]
    return Decimal(("-" if neg else "") + digits)


# ---------------------------------------------------------------------------
# base64 (strict, canonical), uuid

B64_RE = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|"
                    r"[A-Za-z0-9+/]{3}=)?")


def b64_decode(s):
    if not isinstance(s, str) or not B64_RE.fullmatch(s):
        raise EncodeError("invalid base64 %r" % (s,))
    b = base64.b64decode(s, validate=True)
    if base64.b64encode(b).decode("ascii") != s:
        raise EncodeError("non-canonical base64 %r" % s)
    return b


def b64_text(b):
    return base64.b64encode(b).decode("ascii")


UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                     r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def parse_uuid(s):
    if not isinstance(s, str) or not UUID_RE.fullmatch(s):
        raise EncodeError("invalid uuid %r" % (s,))
    return bytes.fromhex(s.replace("-", ""))


def uuid_text(b):
    h = b.hex()
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


# ---------------------------------------------------------------------------
# Encoder

def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def encode_fixed(t, v, path):
    k = t.kind
    if k == "bool":
        if v is not True and v is not False:
            raise EncodeError("%s: bool needs true/false" % path)
        return b"\x01" if v else b"\x00"
    if k in INT_RANGES:
        return struct.pack(INT_FORMATS[k], to_int(v, k))
    if k == "float32":
        return u32(float_bits(v, k))
    if k == "float64":
        return struct.pack("<Q", float_bits(v, k))
    if k == "timestamp":
        return struct.pack("<q", parse_timestamp(v))
    if k == "date":
        return struct.pack("<i", parse_date(v))
    if k == "uuid":
        return parse_uuid(v)
    if k == "fixed":
        b = b64_decode(v)
        if len(b) != t.n:
            raise EncodeError("%s: fixed(%d) needs %d bytes, got %d"
                              % (path, t.n, t.n, len(b)))
        return b
    if k == "enum":
        if not isinstance(v, str) or v not in t.symbols:
            raise EncodeError("%s: %r is not a symbol of the enum" % (path, v))
        return u16(t.symbols.index(v))
    if k == "decimal":
        return struct.pack("<q", to_decimal_unscaled(v, t.p, t.s))
    raise AssertionError(k)


def encode_var_payload(t, v, path, depth):
    k = t.kind
    if k == "string":
        if not isinstance(v, str):
            raise EncodeError("%s: string needs a JSON string" % path)
        try:
            b = v.encode("utf-8")
        except UnicodeEncodeError:
            raise EncodeError("%s: string is not valid Unicode" % path)
        if b"\x00" in b:
            raise EncodeError("%s: string contains U+0000" % path)
        return b
    if k == "bytes":
        return b64_decode(v)
    if k == "array":
        if not isinstance(v, list):
            raise EncodeError("%s: array needs a JSON array" % path)
        if len(v) > MAX_ARRAY:
            raise EncodeError("%s: too many elements" % path)
        out = [u32(len(v))]
        for i, e in enumerate(v):
            ep = "%s[%d]" % (path, i)
            if e is None:
                raise EncodeError("%s: array elements cannot be null" % ep)
            if t.elem.fixed:
                out.append(encode_fixed(t.elem, e, ep))
            else:
                pl = encode_var_payload(t.elem, e, ep, depth + 1)
                out.append(u32(len(pl)))
                out.append(pl)
        return b"".join(out)
    if k == "record":
        bitmap, fixed, var = encode_record(t.record, v, path, depth + 1)
        return (u16(t.record.field_count) + u32(t.record.fixed_length)
                + bitmap + fixed + var)
    raise AssertionError(k)


def field_value(f, obj, path):
    """(is_null, value) for field f of the JSON object obj (section 7)."""
    if f.name in obj:
        v = obj[f.name]
    elif f.has_default:
        v = f.default
    elif f.nullable or f.deprecated:
        v = None
    else:
        raise EncodeError("%s: missing value for non-nullable field" % path)
    if v is None:
        if not (f.nullable or f.deprecated):
            raise EncodeError("%s: null for non-nullable field" % path)
        return True, None
    return False, v


def encode_record(rec, obj, path, depth=0):
    if depth > MAX_DEPTH:
        raise EncodeError("%s: nesting deeper than %d" % (path, MAX_DEPTH))
    if not isinstance(obj, dict):
        raise EncodeError("%s: record needs a JSON object" % (path or "$"))
    for key in obj:
        if key not in rec.by_name:
            raise EncodeError("unknown field %r" % key)
    bitmap = bytearray(rec.bitmap_length)
    fixed = bytearray(rec.fixed_length)
    var = []
    for f in rec.fields:
        fp = f.name if not path else path + "." + f.name
        is_null, v = field_value(f, obj, fp)
        if is_null:
            bitmap[f.ordinal // 8] |= 1 << (f.ordinal % 8)
            if not f.type.fixed:
                var.append(u32(0))
            continue
        if f.type.fixed:
            b = encode_fixed(f.type, v, fp)
            assert len(b) == f.type.size
            fixed[f.offset:f.offset + len(b)] = b
        else:
            pl = encode_var_payload(f.type, v, fp, depth)
            var.append(u32(len(pl)))
            var.append(pl)
    return bytes(bitmap), bytes(fixed), b"".join(var)


def encode_message(schema, doc):
    rec = schema.record
    bitmap, fixed, var = encode_record(rec, doc, "")
    msg = (bytes([MAGIC, 0]) + u16(rec.field_count) + u32(schema.name_hash)
           + u32(schema.version) + u32(rec.fixed_length)
           + bitmap + fixed + var)
    if len(msg) > MAX_MESSAGE:
        raise EncodeError("message exceeds %d bytes" % MAX_MESSAGE)
    return msg


# ---------------------------------------------------------------------------
# Expected decoded document (section 7 applied to the input, canonical text)

def canon_value(t, v):
    k = t.kind
    if t.fixed:
        encode_fixed(t, v, k)           # validates the value
    elif k == "string":
        encode_var_payload(t, v, k, 0)
    if k == "bool":
        return v
    if k in INT_RANGES:
        return Decimal(to_int(v, k))
    if k in ("float32", "float64"):
        return float_text(float_bits(v, k), k)
    if k == "timestamp":
        return fmt_timestamp(parse_timestamp(v))
    if k == "date":
        return fmt_date(parse_date(v))
    if k == "uuid":
        return uuid_text(parse_uuid(v))
    if k in ("fixed", "bytes"):
        return b64_text(b64_decode(v))
    if k in ("enum", "string"):
        return v
    if k == "decimal":
        return decimal_text(to_decimal_unscaled(v, t.p, t.s), t.s)
    if k == "array":
        return [canon_value(t.elem, e) for e in v]
    if k == "record":
        return canon_record(t.record, v)
    raise AssertionError(k)


def canon_record(rec, obj):
    out = {}
    for f in rec.fields:
        is_null, v = field_value(f, obj, f.name)
        if f.deprecated:
            continue
        out[f.name] = None if is_null else canon_value(f.type, v)
    return out


# ---------------------------------------------------------------------------
# Decoder (validating, section 9)

class Reader:
    def __init__(self, buf):
        self.buf = buf

    def need(self, pos, n, what):
        if pos + n > len(self.buf):
            raise DecodeError("at byte %d: %s needs %d bytes, %d remain"
                              % (pos, what, n, len(self.buf) - pos))

    def u16(self, pos):
        self.need(pos, 2, "u16")
        return struct.unpack_from("<H", self.buf, pos)[0]

    def u32(self, pos):
        self.need(pos, 4, "u32")
        return struct.unpack_from("<I", self.buf, pos)[0]


def decode_fixed(t, b, pos):
    k = t.kind
    if k == "bool":
        if b[0] > 1:
            raise DecodeError("at byte %d: bool byte is %d" % (pos, b[0]))
        return b[0] == 1
    if k in INT_RANGES:
        return Decimal(struct.unpack(INT_FORMATS[k], b)[0])
    if k == "float32":
        return float_text(struct.unpack("<I", b)[0], k)
    if k == "float64":
        return float_text(struct.unpack("<Q", b)[0], k)
    if k == "timestamp":
        return fmt_timestamp(struct.unpack("<q", b)[0])
    if k == "date":
        return fmt_date(struct.unpack("<i", b)[0])
    if k == "uuid":
        return uuid_text(b)
    if k == "fixed":
        return b64_text(b)
    if k == "enum":
        i = struct.unpack("<H", b)[0]
        if i >= len(t.symbols):
            raise DecodeError("at byte %d: enum index %d is out of range"
                              % (pos, i))
        return t.symbols[i]
    if k == "decimal":
        u = struct.unpack("<q", b)[0]
        if abs(u) >= 10 ** t.p:
            raise DecodeError("at byte %d: decimal exceeds precision %d"
                              % (pos, t.p))
        return decimal_text(u, t.s)
    raise AssertionError(k)


def decode_var(t, r, start, end, depth):
    """Decode the payload buf[start:end] of a variable-length type."""
    buf = r.buf
    k = t.kind
    if k == "string":
        try:
            text = bytes(buf[start:end]).decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            raise DecodeError("at byte %d: string is not valid UTF-8" % start)
        if "\x00" in text:
            raise DecodeError("at byte %d: string contains U+0000" % start)
        return text
    if k == "bytes":
        return b64_text(bytes(buf[start:end]))
    if k == "array":
        if end - start < 4:
            raise DecodeError("at byte %d: array needs a 4-byte count" % start)
        count = r.u32(start)
        if count > MAX_ARRAY:
            raise DecodeError("at byte %d: array count %d exceeds the limit"
                              % (start, count))
        pos = start + 4
        elem = t.elem
        per = elem.size if elem.fixed else 4
        if count * per > end - pos:
            raise DecodeError("at byte %d: array of %d elements does not fit"
                              % (start, count))
        out = []
        for _ in range(count):
            if elem.fixed:
                out.append(decode_fixed(elem, buf[pos:pos + elem.size], pos))
                pos += elem.size
            else:
                if end - pos < 4:
                    raise DecodeError("at byte %d: length prefix needs 4 "
                                      "bytes" % pos)
                n = r.u32(pos)
                if n > end - pos - 4:
                    raise DecodeError("at byte %d: length %d exceeds the "
                                      "remaining bytes" % (pos, n))
                out.append(decode_var(elem, r, pos + 4, pos + 4 + n,
                                      depth + 1))
                pos += 4 + n
        if pos != end:
            raise DecodeError("at byte %d: %d trailing bytes after array "
                              "elements" % (pos, end - pos))
        return out
    if k == "record":
        rec = t.record
        if end - start < 6:
            raise DecodeError("at byte %d: record header needs 6 bytes"
                              % start)
        fc = r.u16(start)
        fl = r.u32(start + 2)
        if fc != rec.field_count:
            raise DecodeError("at byte %d: record field_count %d does not "
                              "match the schema's %d"
                              % (start, fc, rec.field_count))
        if fl != rec.fixed_length:
            raise DecodeError("at byte %d: record fixed_length mismatch"
                              % (start + 2))
        return decode_body(rec, r, start + 6, end, depth + 1)
    raise AssertionError(k)


def decode_body(rec, r, pos, end, depth):
    """Bitmap + fixed area + variable area of rec, ending exactly at end."""
    buf = r.buf
    blen = rec.bitmap_length
    if blen + rec.fixed_length > end - pos:
        raise DecodeError("at byte %d: bitmap and fixed area do not fit" % pos)
    bitmap = buf[pos:pos + blen]
    used_bits = rec.field_count % 8
    if used_bits and bitmap[-1] >> used_bits:
        raise DecodeError("at byte %d: unused bits of the null bitmap are set"
                          % (pos + blen - 1))
    fixed_start = pos + blen
    vpos = fixed_start + rec.fixed_length
    out = {}
    for f in rec.fields:
        is_null = bool(bitmap[f.ordinal // 8] >> (f.ordinal % 8) & 1)
        if is_null and not (f.nullable or f.deprecated):
            raise DecodeError("at byte %d, field %r: null bit set for "
                              "non-nullable field"
                              % (pos + f.ordinal // 8, f.name))
        if f.type.fixed:
            fpos = fixed_start + f.offset
            b = bytes(buf[fpos:fpos + f.type.size])
            if is_null:
                if any(b):
                    raise DecodeError("at byte %d, field %r: null field has "
                                      "non-zero bytes" % (fpos, f.name))
                val = None
            else:
                val = decode_fixed(f.type, b, fpos)
        else:
            if end - vpos < 4:
                raise DecodeError("at byte %d, field %r: length prefix needs "
                                  "4 bytes" % (vpos, f.name))
            n = r.u32(vpos)
            if n > end - vpos - 4:
                raise DecodeError("at byte %d, field %r: length %d exceeds "
                                  "the %d bytes remaining"
                                  % (vpos, f.name, n, end - vpos - 4))
            if is_null:
                if n != 0:
                    raise DecodeError("at byte %d, field %r: null field has "
                                      "length %d" % (vpos, f.name, n))
                val = None
            else:
                val = decode_var(f.type, r, vpos + 4, vpos + 4 + n, depth)
            vpos += 4 + n
        if not f.deprecated:
            out[f.name] = val
    if vpos != end:
        raise DecodeError("at byte %d: %d trailing bytes after the variable "
                          "area" % (vpos, end - vpos))
    return out


def decode_message(schema, msg):
    r = Reader(msg)
    if len(msg) < 16:
        raise DecodeError("message of %d bytes is shorter than the header"
                          % len(msg))
    if msg[0] != MAGIC:
        raise DecodeError("bad magic byte 0x%02x" % msg[0])
    if msg[1] != 0:
        raise DecodeError("unknown flags 0x%02x" % msg[1])
    fc = r.u16(2)
    nh = r.u32(4)
    ver = r.u32(8)
    fl = r.u32(12)
    rec = schema.record
    if nh != schema.name_hash:
        raise DecodeError("message is not of schema %r" % schema.name)
    if ver != schema.version:
        raise DecodeError("schema_version %d does not match the schema's %d"
                          % (ver, schema.version))
    if fc != rec.field_count:
        raise DecodeError("field_count mismatch")
    if fl != rec.fixed_length:
        raise DecodeError("fixed_length mismatch")
    return decode_body(rec, r, 16, len(msg), 0)


# ---------------------------------------------------------------------------
# Semantic comparison of a decoder's JSON output with the expected document

def compare(t, exp, act, path, errs):
    if exp is None or act is None:
        if exp is not act:
            errs.append("%s: expected %s, got %s"
                        % (path, json_dumps(exp), json_dumps(act)))
        return
    k = t.kind
    if k in ("float32", "float64"):
        def bits(v):
            try:
                return float_bits(v, k)
            except EncodeError:
                return ("bad", v)
        if bits(exp) != bits(act):
            errs.append("%s: expected %s, got %s"
                        % (path, json_dumps(exp), json_dumps(act)))
        return
    if k in INT_RANGES or k == "decimal":
        ok = (isinstance(act, Decimal) and not isinstance(act, bool)
              and act == exp)
        if not ok:
            errs.append("%s: expected %s, got %s"
                        % (path, json_dumps(exp), json_dumps(act)))
        return
    if k == "array":
        if not isinstance(act, list) or len(act) != len(exp):
            errs.append("%s: expected %s, got %s"
                        % (path, json_dumps(exp), json_dumps(act)))
            return
        for i, (e, a) in enumerate(zip(exp, act)):
            compare(t.elem, e, a, "%s[%d]" % (path, i), errs)
        return
    if k == "record":
        compare_record(t.record, exp, act, path, errs)
        return
    if type(exp) is not type(act) or exp != act:
        errs.append("%s: expected %s, got %s"
                    % (path, json_dumps(exp), json_dumps(act)))


def compare_record(rec, exp, act, path, errs):
    if not isinstance(act, dict):
        errs.append("%s: expected an object, got %s"
                    % (path or "$", json_dumps(act)))
        return
    if set(exp) != set(act):
        errs.append("%s: keys differ: expected %s, got %s"
                    % (path or "$", sorted(exp), sorted(act)))
    for f in rec.fields:
        if f.name in exp and f.name in act:
            compare(f.type, exp[f.name], act[f.name],
                    f.name if not path else path + "." + f.name, errs)


# ---------------------------------------------------------------------------
# Self test: the worked examples of the spec, then round trips of cases.json

SPEC_VECTORS = [
    ({"name": "tiny", "fields": [
        {"name": "a", "type": "int16"},
        {"name": "s", "type": "string"},
        {"name": "n", "type": "bool", "nullable": True}]},
     '{"a": 258, "s": "hi", "n": null}',
     "e50003006be63561010000000300000004020100020000006869"),
    ({"name": "shipment", "fields": [
        {"name": "id", "type": "int32"},
        {"name": "price", "type": "decimal(6,2)"},
        {"name": "items", "type": {"array": "string"}},
        {"name": "dims", "type": {"array": "int16"}},
        {"name": "to", "type": {"record": [
            {"name": "zip", "type": "int32", "nullable": True},
            {"name": "city", "type": "string"}]}},
        {"name": "note", "type": "string", "nullable": True}]},
     '{"id": 7, "price": 12.34, "items": ["ab", "c"], "dims": [3, -1], '
     '"to": {"zip": null, "city": "Oslo"}, "note": null}',
     "e5000600c32652ec010000000c0000002007000000d2040000000000000f00000002"
     "000000020000006162010000006308000000020000000300ffff1300000002000400"
     "00000100000000040000004f736c6f00000000"),
    ({"name": "tm", "fields": [{"name": "t", "type": "timestamp"},
                               {"name": "d", "type": "date"}]},
     '{"t": "1970-01-01T00:00:00Z", "d": "1970-01-02"}',
     "e50002004a4b4544010000000c00000000000000000000000001000000"),
    ({"name": "tm", "fields": [{"name": "t", "type": "timestamp"},
                               {"name": "d", "type": "date"}]},
     '{"t": "1969-12-31T23:59:59.999999Z", "d": "1970-01-02"}',
     "e50002004a4b4544010000000c00000000ffffffffffffffff01000000"),
    ({"name": "tm", "fields": [{"name": "t", "type": "timestamp"},
                               {"name": "d", "type": "date"}]},
     '{"t": "-000001-12-31T00:00:00Z", "d": "+010000-01-01"}',
     "e50002004a4b4544010000000c0000000000a011392a2323ffa1c02c00"),
]


def carries_deprecated(rec, obj):
    """Does the document give a deprecated field (at any depth) a value?"""
    def walk(t, v):
        if v is None:
            return False
        if t.kind == "record":
            return carries_deprecated(t.record, v)
        if t.kind == "array":
            return any(walk(t.elem, e) for e in v)
        return False
    for f in rec.fields:
        v = obj.get(f.name)
        if v is not None and (f.deprecated or walk(f.type, v)):
            return True
    return False


def selftest(cases_path=None):
    fails = 0

    def check(cond, what):
        nonlocal fails
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            fails += 1

    for name, h in (("tiny", 0x6135E66B), ("orders", 0x325E96EC),
                    ("shipment", 0xEC5226C3), ("evt", 0x6AA1FD62),
                    ("costarring", 0x5E4DAA9D), ("liquid", 0x5E4DAA9D),
                    ("tm", 0x44454B4A)):
        check(fnv1a32(name.encode()) == h, "fnv1a32(%s)" % name)
    for defn, doc, hexmsg in SPEC_VECTORS:
        sch = parse_schema(defn, version=1)    # registered as NAME@1
        got = encode_message(sch, json_loads(doc)).hex()
        check(got == hexmsg, "spec vector %s %s%s" % (
            defn["name"], doc, "" if got == hexmsg else " got " + got))
    # the good "mal" message of section 9
    mal = parse_schema({"name": "mal", "fields": [
        {"name": "a", "type": "int16"}, {"name": "s", "type": "string"},
        {"name": "e", "type": {"enum": ["x", "y"]}},
        {"name": "b", "type": "bool"},
        {"name": "n", "type": "int32", "nullable": True},
        {"name": "arr", "type": {"array": "int32"}}]}, version=1)
    malmsg = bytes.fromhex(
        "e50006009502a3eb0100000009000000100100010001000000000200000068690c"
        "000000020000000100000002000000")
    try:
        d = decode_message(mal, malmsg)
        check(encode_message(mal, d) == malmsg, "mal message round trip")
    except (DecodeError, EncodeError) as e:
        check(False, "mal message: %s" % e)
    # timestamp / date text examples
    for us, text in ((0, "1970-01-01T00:00:00.000000Z"),
                     (-1, "1969-12-31T23:59:59.999999Z"),
                     (I64_MIN, "-290308-12-21T19:59:05.224192Z"),
                     (I64_MAX, "+294247-01-10T04:00:54.775807Z")):
        check(fmt_timestamp(us) == text and parse_timestamp(text) == us,
              "timestamp %d <-> %s" % (us, text))
    for days, text in ((0, "1970-01-01"), (-719162, "0001-01-01"),
                       (I32_MIN, "-5877641-06-23"), (I32_MAX, "+5881580-07-11")):
        check(fmt_date(days) == text and parse_date(text) == days,
              "date %d <-> %s" % (days, text))
    check(parse_timestamp("2026-11-24 07:23:09.5+01:00")
          == parse_timestamp("2026-11-24T06:23:09.500000Z"), "zone conversion")
    check(float_text(float_bits(Decimal("0.1"), "float32"), "float32")
          == Decimal("0.1"), "float32 0.1 shortest text")
    if cases_path:
        with open(cases_path, "rb") as fh:
            cases = json_loads(fh.read().decode("utf-8"))
        for c in cases:
            if "malformed" in c:
                try:
                    decode_message(parse_schema(c["schema"]),
                                   bytes.fromhex(c["malformed"]))
                    check(False, "case %s: should be malformed" % c["name"])
                except DecodeError as e:
                    check(True, "case %s malformed: %s" % (c["name"], e))
                except EncodeError as e:
                    check(False, "case %s: schema refused: %s"
                          % (c["name"], e))
                continue
            if c.get("reject"):
                # "schema": the definition is refused; "value": the document
                stage = c["reject"]
                try:
                    sch = parse_schema(c["schema"])
                except SchemaError as e:
                    check(stage == "schema", "case %s refused (schema): %s"
                          % (c["name"], e))
                    continue
                try:
                    encode_message(sch, c["document"])
                    check(False, "case %s: should be refused" % c["name"])
                except EncodeError as e:
                    check(stage == "value", "case %s refused (value): %s"
                          % (c["name"], e))
                continue
            try:
                sch = parse_schema(c["schema"])
                msg = encode_message(sch, c["document"])
                dec = decode_message(sch, msg)
                exp = canon_record(sch.record, c["document"])
                errs = []
                compare_record(sch.record, exp, dec, "", errs)
                again = encode_message(sch, dec)
                if carries_deprecated(sch.record, c["document"]):
                    again = msg     # section 13: not expected to round-trip
                want = c.get("expect_hex")
                ok = not errs and again == msg and want in (None, msg.hex())
                check(ok, "case %s round trip (%d bytes)%s"
                      % (c["name"], len(msg), "" if ok else " " + "; ".join(
                          errs) + (" re-encode differs" if again != msg
                                   else "") + (" bytes differ from expect_hex"
                                               if want not in (None, msg.hex())
                                               else "")))
            except (EncodeError, DecodeError) as e:
                check(False, "case %s: %s" % (c["name"], e))
    print("selftest: %d failed" % fails)
    return 1 if fails else 0


# ---------------------------------------------------------------------------

def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    cmd = argv[1]
    try:
        if cmd == "encode" and len(argv) == 3:
            sch = load_schema(argv[2])
            doc = json_loads(sys.stdin.buffer.read().decode("utf-8"))
            sys.stdout.buffer.write(encode_message(sch, doc))
            return 0
        if cmd == "decode" and len(argv) == 3:
            sch = load_schema(argv[2])
            doc = decode_message(sch, sys.stdin.buffer.read())
            sys.stdout.write(json_dumps(doc, fixed=True) + "\n")
            return 0
        if cmd == "expect" and len(argv) == 3:
            sch = load_schema(argv[2])
            doc = json_loads(sys.stdin.buffer.read().decode("utf-8"))
            sys.stdout.write(json_dumps(canon_record(sch.record, doc),
                                        fixed=True) + "\n")
            return 0
        if cmd == "check" and len(argv) == 5:
            sch = load_schema(argv[2])
            with open(argv[3], "rb") as fh:
                doc = json_loads(fh.read().decode("utf-8"))
            with open(argv[4], "rb") as fh:
                act = json_loads(fh.read().decode("utf-8"))
            exp = canon_record(sch.record, doc)
            errs = []
            compare_record(sch.record, exp, act, "", errs)
            for e in errs:
                sys.stdout.write(e + "\n")
            return 1 if errs else 0
        if cmd == "selftest" and len(argv) in (2, 3):
            return selftest(argv[2] if len(argv) == 3 else None)
    except SchemaError as e:
        sys.stderr.write("encoder.py: schema error: %s\n" % e)
        return 1
    except (EncodeError, DecodeError) as e:
        sys.stderr.write("encoder.py: %s\n" % e)
        return 1
    except ValueError as e:                 # JSON syntax, UTF-8
        sys.stderr.write("encoder.py: invalid input: %s\n" % e)
        return 1
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
