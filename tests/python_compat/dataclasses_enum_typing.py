# inputs: ["a:1", "b:2", "a:5"]
"""dataclasses, enum and typing."""
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Dict, List, Optional

from remotemedia import Node


class Kind(Enum):
    A = "a"
    B = "b"


@dataclass
class Record:
    kind: Kind
    value: int
    tags: List[str] = field(default_factory=list)
    note: Optional[str] = None


class Program(Node):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.by_kind: Dict[str, int] = {}

    def process(self, text):
        k, v = text.split(":")
        rec = Record(Kind(k), int(v), tags=[k * 2])
        self.by_kind[rec.kind.name] = self.by_kind.get(rec.kind.name, 0) + rec.value
        d = asdict(rec)
        d["kind"] = rec.kind.value
        return {"record": d, "totals": dict(sorted(self.by_kind.items()))}
