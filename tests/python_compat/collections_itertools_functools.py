# inputs: ["the quick brown fox", "the lazy dog", "quick quick"]
"""collections, itertools and functools."""
import functools
import itertools
from collections import Counter, OrderedDict, defaultdict, deque, namedtuple

from remotemedia import Node

Pair = namedtuple("Pair", "a b")


@functools.lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Program(Node):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.words = Counter()
        self.recent = deque(maxlen=2)
        self.index = defaultdict(list)

    def process(self, text):
        words = text.split()
        self.words.update(words)
        self.recent.append(text)
        for i, w in enumerate(words):
            self.index[w].append(i)
        od = OrderedDict((w, len(w)) for w in words)
        return {
            "top": self.words.most_common(2),
            "recent": list(self.recent),
            "pairs": [list(Pair(a, b)) for a, b in itertools.combinations(words[:3], 2)],
            "acc": list(itertools.accumulate(len(w) for w in words)),
            "groups": [[k, len(list(g))] for k, g in itertools.groupby(sorted(words))],
            "reduce": functools.reduce(lambda a, b: a + b, words, ""),
            "fib": fib(20),
            "od": list(od.items()),
            "chain": list(itertools.islice(itertools.chain(words, itertools.repeat("-")), 5)),
        }
