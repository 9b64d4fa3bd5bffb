# inputs: [[2.0, 1024], [10, 400.0], [-2.0, 1025], [1.5, 2000], [2.0, 10], [2.0, -1080], [1e308, 1.0], ["inf", 2]]
"""float ** overflows raise OverflowError, as on CPython (RustPython alone returned inf)."""
from remotemedia import Node


class Program(Node):
    def process(self, pair):
        base, exponent = pair
        base = float(base) if isinstance(base, str) else base
        out = {}
        for name, compute in [("**", lambda: base**exponent), ("pow", lambda: pow(base, exponent))]:
            try:
                result = compute()
                out[name] = repr(result)
            except OverflowError as e:
                out[name] = f"OverflowError: {e}"
        out["product"] = repr(base * 10.0 if isinstance(base, float) else base)
        return out
