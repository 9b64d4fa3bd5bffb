# inputs: [[1, 2, 3, 4], [2.5, 2.5, 10.0], [7]]
"""math and statistics."""
import math
import statistics

from remotemedia import Node


class Program(Node):
    def process(self, values):
        out = {
            "fsum": math.fsum(values),
            "hypot": round(math.hypot(*values), 9),
            "gcd": math.gcd(*[int(v) for v in values]),
            "mean": statistics.mean(values),
            "median": statistics.median(values),
            "isqrt": math.isqrt(int(sum(values))),
            "log": round(math.log(sum(values), 2), 9),
        }
        if len(values) > 1:
            out["stdev"] = round(statistics.stdev(values), 9)
        return out
