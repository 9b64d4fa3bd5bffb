# inputs: [1, 2, 3]
"""random with a seed: the same sequence on every interpreter."""
import random

from remotemedia import Node


class Program(Node):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.rng = random.Random(1234)

    def process(self, n):
        return {
            "ints": [self.rng.randint(0, 1000) for _ in range(n)],
            "choice": self.rng.choice(["a", "b", "c", "d"]),
            "shuffled": self.rng.sample(range(10), 4),
            "float": round(self.rng.random(), 12),
        }
