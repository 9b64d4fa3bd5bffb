"""A stateful Python node: counts the items it has seen."""

from remotemedia import Node


class Counter(Node):
    """Emits ``{"item": x, "count": n}`` for each input and ``{"total": n}`` at end of stream."""

    def __init__(self, start=0, **kwargs):
        super().__init__(**kwargs)
        self.count = start

    def process(self, data):
        self.count += 1
        return {"item": data, "count": self.count}

    def flush(self):
        return {"total": self.count}
