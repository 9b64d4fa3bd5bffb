"""Python nodes exercising the node protocol: state, filtering, generators, flush, errors."""

from collections import deque

from remotemedia import Node


class WindowSum(Node):
    """Running sum over the last ``window`` inputs."""

    def __init__(self, window=3, **kwargs):
        super().__init__(**kwargs)
        self.recent = deque(maxlen=window)

    def process(self, data):
        self.recent.append(data)
        return sum(self.recent)


class EvenRepeater(Node):
    """Drops odd numbers; emits each even number ``times`` times."""

    def __init__(self, times=2, **kwargs):
        super().__init__(**kwargs)
        self.times = times

    def process(self, data):
        if data % 2:
            return None
        for _ in range(self.times):
            yield data


class Picky(Node):
    """Raises ValueError on negative numbers."""

    def process(self, data):
        if data < 0:
            raise ValueError(f"negative input {data}")
        return data
