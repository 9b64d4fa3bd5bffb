# inputs: ["2024-02-28", "2023-12-31", "2024-07-04"]
"""datetime arithmetic and formatting."""
from datetime import date, datetime, timedelta, timezone

from remotemedia import Node


class Program(Node):
    def process(self, text):
        d = date.fromisoformat(text)
        nxt = d + timedelta(days=2)
        dt = datetime(d.year, d.month, d.day, 13, 45, tzinfo=timezone.utc)
        return {
            "next": nxt.isoformat(),
            "weekday": d.strftime("%A"),
            "iso_week": list(d.isocalendar())[:2],
            "stamp": dt.isoformat(),
            "epoch": int(dt.timestamp()),
            "days_to_new_year": (date(d.year + 1, 1, 1) - d).days,
        }
