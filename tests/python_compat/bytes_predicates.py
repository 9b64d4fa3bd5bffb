# inputs: [[65, 98], [233], [192, 97], [11, 32], [49, 97, 255], []]
"""bytes and bytearray predicates know ASCII only, as on CPython (RustPython alone read Latin-1)."""
from remotemedia import Node


class Program(Node):
    def process(self, values):
        out = {}
        for kind in (bytes, bytearray):
            data = kind(values)
            out[kind.__name__] = [data.isalpha(), data.isalnum(), data.isspace(), data.istitle(), data.isupper()]
        return out
