# inputs: [5e-324, -5e-324, 7.4e-309, 1e-310, 1.5, -0.0, 1e300, 2.2250738585072014e-308]
"""hash() of floats, subnormals included, as on CPython (RustPython alone differed on subnormals)."""
from fractions import Fraction

from remotemedia import Node


class Program(Node):
    def process(self, value):
        return {"hash": hash(value), "same_as_fraction": hash(value) == hash(Fraction(value))}
