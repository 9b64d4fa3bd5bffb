# inputs: [1, 2, 3]
"""async def process, inheritance and properties, class attributes."""
from remotemedia import Node


class Base(Node):
    factor = 2

    @property
    def scale(self):
        return self.factor * 10

    def transform(self, x):
        return x * self.scale


class Program(Base):
    factor = 3

    async def process(self, x):
        return {"value": self.transform(x), "mro": [c.__name__ for c in type(self).__mro__][:3]}
