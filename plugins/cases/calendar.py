"""The business calendar SLA clocks count in: a timezone (zoneinfo), working days, working hours, holidays.

``working_seconds(a, b)`` is the working time between two instants (seconds since the epoch), ``advance(a, s)`` the
instant ``s`` seconds of working time after ``a``; a level with ``calendar: always`` counts every second instead.
Days are cut at the calendar's own midnight, so daylight-saving changes shift the working hours with the wall
clock, as people experience them.

Both answer from a table of the working windows of a span of days with the working time before each (cumulated,
kept and widened as needed): one binary search per instant, where walking the days one by one cost most of the
time of re-evaluating 10,000 cases' clocks.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from medic.kernel.errors import UsageError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MARGIN = dt.timedelta(days=62)  # a table is widened by at least this on either side


class _Table:
    """The working windows of the days ``first``..``last``: starts, ends, working seconds before each (``before``)
    and up to each one's end (``upto``); ``lo``..``hi`` the instants it covers."""

    def __init__(self, cal: BusinessCalendar, first: dt.date, last: dt.date) -> None:
        self.first, self.last = first, last
        self.lo = dt.datetime.combine(first, dt.time(0), cal.zone).timestamp()
        self.hi = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), cal.zone).timestamp()
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.before: list[float] = []
        self.upto: list[float] = []
        total, day = 0.0, first
        while day <= last:
            window = cal._window(day)
            if window is not None:
                self.starts.append(window[0])
                self.ends.append(window[1])
                self.before.append(total)
                total += window[1] - window[0]
                self.upto.append(total)
            day += dt.timedelta(days=1)
        self.total = total

    def worked(self, t: float) -> float:
        """Working seconds from ``lo`` to ``t`` (``lo <= t <= hi``)."""
        i = bisect_right(self.starts, t) - 1
        return 0.0 if i < 0 else self.before[i] + min(t, self.ends[i]) - self.starts[i]


def _clock(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "UTC"
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    start: str = "09:00"
    end: str = "17:00"
    holidays: frozenset[str] = field(default_factory=frozenset)  # ISO dates, in the calendar's timezone

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "_zone", ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError):
            raise UsageError(f"calendar.timezone {self.timezone!r}: not a known time zone (e.g. Europe/Paris, "
                             f"UTC)") from None
        if _clock(self.end) <= _clock(self.start):
            raise UsageError(f"calendar.hours: the end {self.end} must come after the start {self.start}")

    @property
    def zone(self) -> ZoneInfo:
        return self._zone  # type: ignore[attr-defined]

    def is_working_day(self, day: dt.date) -> bool:
        return DAY_NAMES[day.weekday()] in self.days and day.isoformat() not in self.holidays

    def _window(self, day: dt.date) -> tuple[float, float] | None:
        """The day's working hours as instants, None on a day off; kept, as listing many cases asks for the
        same days again and again (most of an evaluation's time went into building these instants)."""
        cache: dict[dt.date, tuple[float, float] | None] = self.__dict__.setdefault("_windows", {})
        if day not in cache:
            if len(cache) > 20_000:
                cache.clear()
            cache[day] = ((dt.datetime.combine(day, _clock(self.start), self.zone).timestamp(),
                           dt.datetime.combine(day, _clock(self.end), self.zone).timestamp())
                          if self.is_working_day(day) else None)
        return cache[day]

    def table(self, a: float, b: float) -> _Table:
        """A table covering the instants ``a`` to ``b``: the one kept, or a wider one built from it."""
        table: _Table | None = self.__dict__.get("_table_kept")
        if table is None or not table.lo <= a <= b <= table.hi:
            first = dt.datetime.fromtimestamp(a, self.zone).date() - _MARGIN
            last = dt.datetime.fromtimestamp(b, self.zone).date() + _MARGIN
            if table is not None and (table.last - table.first).days < 40_000:  # one table, widened
                first, last = min(first, table.first), max(last, table.last)
            table = _Table(self, first, last)
            self.__dict__["_table_kept"] = table
        return table

    def working_seconds(self, a: float, b: float) -> float:
        """Working time between two instants (0 when b <= a)."""
        if b <= a:
            return 0.0
        table = self.table(a, b)
        return max(0.0, table.worked(b) - table.worked(a))

    def advance(self, a: float, seconds: float, horizon_days: int = 3660) -> float:
        """The instant ``seconds`` of working time after ``a`` (the inverse of ``working_seconds``): when a
        running clock reaches its budget. Infinity when the calendar has too few working days to get there."""
        if seconds <= 0:
            return a
        reach = 30 * 86400.0
        while True:
            table = self.table(a, a + reach)
            target = table.worked(a) + seconds
            if target <= table.total:
                j = bisect_left(table.upto, target)
                return max(a, table.starts[j] + (target - table.before[j]))
            if reach >= horizon_days * 86400.0:
                return float("inf")
            reach = min(reach * 4, horizon_days * 86400.0)


def elapsed(calendar: BusinessCalendar | None, a: float, b: float) -> float:
    """Time counted between two instants: working time on a business calendar, every second without one."""
    if calendar is None:
        return max(0.0, b - a)
    return calendar.working_seconds(a, b)


def advance(calendar: BusinessCalendar | None, a: float, seconds: float) -> float:
    """The instant ``seconds`` of counted time after ``a``: on the business calendar, or every second without one."""
    if calendar is None:
        return a + max(0.0, seconds)
    return calendar.advance(a, seconds)
