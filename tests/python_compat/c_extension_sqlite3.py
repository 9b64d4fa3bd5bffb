# inputs: [["a", 3], ["b", 5], ["a", 4]]
"""sqlite3 (a C extension module): an in-memory table, aggregated at flush. Needs CPython."""

import sqlite3

from remotemedia import Node


class Program(Node):
    def initialize(self):
        self.db = sqlite3.connect(":memory:")
        self.db.execute("create table t (key text, value integer)")

    def process(self, row):
        self.db.execute("insert into t values (?, ?)", row)

    def flush(self):
        rows = self.db.execute("select key, sum(value), count(*) from t group by key order by key")
        return [list(r) for r in rows]

    def cleanup(self):
        self.db.close()
