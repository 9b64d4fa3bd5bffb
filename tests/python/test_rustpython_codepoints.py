"""RustPython against CPython per code point: every `str` predicate and case map over all of
Unicode, `str.split()`/`strip()` whitespace, `int()` and `float()` of every decimal digit, and
every `bytes` predicate and case map over all 256 bytes. Each runs on RustPython inside the engine
and on this CPython; the code points where they differ are counted and listed, per method, in
docs/python-compatibility.md (regenerate with ``REMOTEMEDIA_UPDATE_COMPAT=1 pytest
tests/python/test_rustpython_codepoints.py``; the test fails when the doc is out of date, so every
remaining difference is listed and a fixed one disappears from the list).
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata

import pytest

from conftest import HAVE_EXTENSION, ROOT, run_on_rustpython

pytestmark = pytest.mark.skipif(not HAVE_EXTENSION, reason="compares RustPython inside the engine with CPython")

COMPAT_DOC = ROOT / "docs" / "python-compatibility.md"
BEGIN, END = "<!-- codepoints:begin -->", "<!-- codepoints:end -->"

#: The probes: name -> Python source of a function of one code point's character (or byte), run
#: identically on both interpreters. Predicates give bools, maps give strings.
STR_PROBES = {
    **{
        f"str.{m}": f"lambda c: c.{m}()"
        for m in [
            "isalpha",
            "isalnum",
            "isdecimal",
            "isdigit",
            "isnumeric",
            "isspace",
            "isprintable",
            "islower",
            "isupper",
            "istitle",
            "isidentifier",
            "lower",
            "upper",
            "title",
            "capitalize",
            "swapcase",
            "casefold",
        ]
    },
    "str.split() whitespace": "lambda c: len(('a' + c + 'b').split()) == 2",
    "str.strip() whitespace": "lambda c: c.strip() == ''",
    "titlecase in islower": "lambda c: (c + 'a').islower()",
    "titlecase in isupper": "lambda c: (c + 'A').isupper()",
    "final sigma (title)": "lambda c: ('A' + c + '\u03a3').title()",
    "final sigma (capitalize)": "lambda c: ('A' + c + '\u03a3').capitalize()",
    "repr": "lambda c: repr(c)",
    "int(digit)": "lambda c: _int(c)",
    "float(digit)": "lambda c: _float(c)",
}

BYTES_PROBES = {
    f"bytes.{m}": f"lambda b: b.{m}()"
    for m in ["isalpha", "isalnum", "isdigit", "isspace", "islower", "isupper", "istitle", "lower", "upper", "title"]
}

HELPERS = """
def _int(c):
    try:
        return int(c * 2)
    except ValueError:
        return None

def _float(c):
    try:
        return float(c + '.5')
    except ValueError:
        return None
"""

ENCODE = """
def _encode(value):
    # Strings and bytes as their code points (so that `repr`'s own differences do not count).
    if value is True:
        return "1"
    if value is False:
        return "0"
    if isinstance(value, str):
        return ",".join(format(ord(ch), "x") for ch in value)
    if isinstance(value, bytes):
        return value.hex()
    return repr(value)
"""

#: A node that evaluates one probe over the code points it is given: the results, joined.
PROBE_SOURCE = (
    HELPERS
    + ENCODE
    + """
from remotemedia import Node

class Probe(Node):
    def process(self, request):
        kind, source, points = request
        f = eval(source, globals())
        if kind == "bytes":
            items = [bytes([p]) for p in points]
        else:
            items = [chr(p) for p in points]
        return "\\x1f".join(_encode(f(x)) for x in items)
"""
)

CODE_POINTS = [p for p in range(sys.maxunicode + 1) if not 0xD800 <= p <= 0xDFFF]
DIGITS = [p for p in CODE_POINTS if unicodedata.decimal(chr(p), None) is not None]


def evaluate_here(kind: str, source: str, points: list[int]) -> list[str]:
    namespace: dict = {}
    exec(HELPERS + ENCODE, namespace)
    f = eval(source, namespace)
    items = [bytes([p]) for p in points] if kind == "bytes" else [chr(p) for p in points]
    return [namespace["_encode"](f(x)) for x in items]


def evaluate_on_rustpython(kind: str, source: str, points: list[int]) -> list[str]:
    return run_on_rustpython("Probe", PROBE_SOURCE, [kind, source, points]).split("\x1f")


def differing(kind: str, source: str, points: list[int]) -> list[int]:
    here = evaluate_here(kind, source, points)
    there = evaluate_on_rustpython(kind, source, points)
    assert len(here) == len(there) == len(points)
    return [p for p, a, b in zip(points, here, there) if a != b]


def probe_points(name: str) -> tuple[str, list[int]]:
    if name in BYTES_PROBES:
        return "bytes", list(range(256))
    if name.startswith(("int(", "float(")):
        return "str", DIGITS
    return "str", CODE_POINTS


def measure() -> dict[str, tuple[int, int, list[int]]]:
    """probe -> (differing, compared, the first differing code points)."""
    out = {}
    for name, source in {**STR_PROBES, **BYTES_PROBES}.items():
        kind, points = probe_points(name)
        diff = differing(kind, source, points)
        out[name] = (len(diff), len(points), diff[:6])
    return out


def render_section(results: dict[str, tuple[int, int, list[int]]]) -> str:
    lines = [
        BEGIN,
        "## Per code point (generated)",
        "",
        "`tests/python/test_rustpython_codepoints.py` runs each `str` predicate and case map over every",
        "code point, `repr()`, `str.split()`/`strip()` whitespace, titlecase letters in `islower()`/`isupper()`,",
        "the final sigma, `int()` and `float()` of every",
        "decimal digit, and each `bytes` predicate and case map over all 256 bytes, on RustPython inside",
        f"the engine and on CPython {sys.version_info.major}.{sys.version_info.minor} (Unicode"
        f" {unicodedata.unidata_version}). The engine's corrections (`crates/remotemedia-rustpython/src/fixes/`)",
        "and most of RustPython 0.5 read Unicode 16 tables, a few of RustPython's predicates (`isidentifier`,",
        "`isdigit`, `isnumeric`) older ones, so differences remain wherever the versions disagree.",
        "Results are compared as code points.",
        "Code points where the result differs:",
        "",
        "| probe | differing | of | first ones |",
        "|---|---|---|---|",
    ]
    for name, (count, total, first) in sorted(results.items()):
        shown = ", ".join(f"U+{p:04X}" if not name.startswith("bytes") else f"0x{p:02X}" for p in first)
        lines.append(f"| `{name}` | {count} | {total} | {shown} |")
    lines.append(END)
    return "\n".join(lines)


def test_the_per_code_point_differences_are_the_documented_ones():
    section = render_section(measure())
    doc = COMPAT_DOC.read_text()
    if os.environ.get("REMOTEMEDIA_UPDATE_COMPAT"):
        pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
        doc = pattern.sub(lambda _: section, doc) if pattern.search(doc) else doc.rstrip() + "\n\n" + section + "\n"
        COMPAT_DOC.write_text(doc)
    assert section in doc, "docs/python-compatibility.md is out of date; see this file's docstring"


def test_the_probes_see_differences_where_they_are_known():
    # The comparison itself works: a known difference (a digit of Unicode 16, which CPython 3.11
    # does not know) is found, a corrected one (Arabic-Indic digits) and ASCII agree.
    assert differing("str", STR_PROBES["str.isdigit"], [0x31, 0x0661, 0x10D40]) == [0x10D40]
    assert differing("str", STR_PROBES["str.upper"], list(range(128))) == []
