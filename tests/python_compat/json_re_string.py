# inputs: ["alpha=1; beta=22", "gamma=333", "bad"]
"""json, re and string formatting."""
import json
import re
import string

from remotemedia import Node

PAIR = re.compile(r"(\w+)=(\d+)")


class Program(Node):
    def process(self, text):
        pairs = {k: int(v) for k, v in PAIR.findall(text)}
        doc = json.dumps(pairs, sort_keys=True)
        tmpl = string.Template("$n pairs: $doc")
        return {
            "json": doc,
            "roundtrip": json.loads(doc),
            "template": tmpl.substitute(n=len(pairs), doc=doc),
            "fmt": "{:08.3f}|{:<5}|{:^7}|{:,}".format(3.14159, "ab", "mid", 1234567),
            "percent": "%5.1f%% of %s" % (12.345, "x"),
            "upper": re.sub(r"[aeiou]", lambda m: m.group(0).upper(), text),
        }
