# inputs: [3, 0, 2]
"""Generators (several outputs), filtering with None, and flush."""
from remotemedia import Node


class Program(Node):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.total = 0

    def process(self, n):
        if n == 0:
            return None
        return self._count(n)

    def _count(self, n):
        for i in range(n):
            self.total += i
            yield i

    def flush(self):
        return {"total": self.total}
