# inputs: [" a\u0085b\u3000\u00a0c ", "\u001c x \u001f", "\u01c5a \u01c4 \u01c6", "\u03a3\u0391\u03a3 \u03c3\u03a3'", "a\u00df \u00e0\u0130\u03a3", "\u0661\u0662", "\u0663.\u0665e\u0661", "\u0661x", "\u00bd", "a\u0345", "\u0560\u00a0", "\u2167\u0e53", "\u00b2\u2460\u4e00", "\ud835\udfce", "ascii only, words", "_ab\u0560", ""]
"""str methods on non-ASCII text as on CPython: split/strip whitespace, titlecase letters, final sigma, int() of any digits, letters, numbers, printables and repr by category, zfill."""
from remotemedia import Node


def attempt(compute):
    try:
        return compute()
    except (TypeError, ValueError, OverflowError) as e:
        return f"{type(e).__name__}: {e}"


class Program(Node):
    def process(self, text):
        return {
            "split": [text.split(), text.split(None, 1), text.split(maxsplit=0), text.split(","), text.split(" ", 1)],
            "rsplit": [text.rsplit(), text.rsplit(None, 1), text.rsplit(maxsplit=0), text.rsplit(" ", 1)],
            "strip": [text.strip(), text.lstrip(), text.rstrip(), text.strip("a "), text.rstrip(None)],
            "predicates": [text.isalpha(), text.isalnum(), text.isprintable(), text.isdecimal(), text.isdigit(), text.isnumeric(), text.isidentifier()],
            "repr": [repr(text), ascii(text), f"{text!r}", str([text]), text.__repr__(), repr(text + "'\udc80\x7f")],
            "zfill": [text.zfill(8), ("-" + text).zfill(6), ("+" + text).zfill(0), text.zfill(-3)],
            "case": [text.islower(), text.isupper(), text.istitle(), text.title(), text.capitalize(), text.swapcase()],
            "numbers": [attempt(lambda: int(text)), attempt(lambda: float(text)), attempt(lambda: int(text, 16))],
            "errors": [
                attempt(lambda: text.split(1)),
                attempt(lambda: text.split("")),
                attempt(lambda: text.split(",", 1, 2)),
                attempt(lambda: text.split(foo=1)),
                attempt(lambda: text.rsplit(maxsplit="x")),
                attempt(lambda: text.split(maxsplit=2**70)),
                attempt(lambda: text.strip(1)),
                attempt(lambda: text.strip("x", "y")),
                attempt(lambda: text.lstrip(chars="x")),
            ],
        }
