# inputs: [1, 2, 3, 4]
"""Classes with state, closures, comprehensions and f-strings."""
from remotemedia import Node


def make_scaler(k):
    def scale(x):
        return x * k
    return scale


class Program(Node):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []
        self.scale = make_scaler(3)

    def process(self, x):
        self.seen.append(x)
        squares = [v * v for v in self.seen if v % 2 == 0]
        return {"scaled": self.scale(x), "squares": squares, "label": f"{x:>3}|{x / 4:.2f}|{x!r}"}
