# inputs: [4, 0, "x", 2]
"""Exceptions raised and caught inside a node."""
from remotemedia import Node


class Program(Node):
    def process(self, x):
        try:
            return {"ok": 12 // x}
        except ZeroDivisionError as e:
            return {"error": type(e).__name__}
        except TypeError as e:
            return {"error": type(e).__name__, "chained": isinstance(e.__context__, BaseException)}
        finally:
            pass
