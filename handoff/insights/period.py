"""The period a dashboard or report covers: `since` ("24h", "7d", "30d") back from now, cut into
buckets of an hour (periods up to two days) or a day, all in UTC like the database's times."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

SINCE_PATTERN = re.compile(r"^([1-9][0-9]{0,3})([hd])$")
LONGEST = timedelta(days=366)
HOURLY_UP_TO = timedelta(days=2)
HOUR, DAY = "hour", "day"


class SinceError(ValueError):
    """A `since` that is not a whole number of hours or days, or longer than a year."""


def parse_since(since: str) -> timedelta:
    """"24h" -> 24 hours, "7d" -> 7 days; SinceError for anything else."""
    match = SINCE_PATTERN.match(since.strip())
    if match is None:
        raise SinceError(f"since must be a number of hours or days such as 24h or 7d, not {since[:20]!r}")
    count, unit = int(match.group(1)), match.group(2)
    length = timedelta(hours=count) if unit == "h" else timedelta(days=count)
    if length > LONGEST:
        raise SinceError("since may go back at most 366 days")
    return length


@dataclass(frozen=True)
class Period:
    """From `start` to `end` (naive UTC), bucketed by `bucket`."""

    since: str
    start: datetime
    end: datetime
    bucket: str

    @classmethod
    def ending(cls, since: str, now: datetime) -> Period:
        length = parse_since(since)
        return cls(since.strip(), now - length, now, HOUR if length <= HOURLY_UP_TO else DAY)

    def bucket_of(self, at: datetime) -> datetime:
        """The start of the bucket `at` falls in."""
        hour = at.replace(minute=0, second=0, microsecond=0)
        return hour if self.bucket == HOUR else hour.replace(hour=0)

    def buckets(self) -> list[datetime]:
        """Every bucket's start from the one holding `start` to the one holding `end`."""
        step = timedelta(hours=1) if self.bucket == HOUR else timedelta(days=1)
        first, last = self.bucket_of(self.start), self.bucket_of(self.end)
        return [first + step * index for index in range(int((last - first) / step) + 1)]

    def contains(self, at: datetime) -> bool:
        return self.start <= at <= self.end
