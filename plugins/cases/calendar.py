"""The business calendar SLA clocks count in: a timezone (zoneinfo), working days, working hours, holidays.

``working_seconds(a, b)`` is the working time between two instants (seconds since the epoch), ``advance(a, s)`` the
instant ``s`` seconds of working time after ``a``; a level with ``calendar: always`` counts every second instead.
Days are cut at the calendar's own midnight, so daylight-saving changes shift the working hours with the wall
clock, as people experience them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from medic.kernel.errors import UsageError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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

    def working_seconds(self, a: float, b: float) -> float:
        """Working time between two instants (0 when b <= a)."""
        if b <= a:
            return 0.0
        day = dt.datetime.fromtimestamp(a, self.zone).date()
        last = dt.datetime.fromtimestamp(b, self.zone).date()
        total = 0.0
        while day <= last:
            window = self._window(day)
            if window is not None:
                total += max(0.0, min(b, window[1]) - max(a, window[0]))
            day += dt.timedelta(days=1)
        return total

    def advance(self, a: float, seconds: float, horizon_days: int = 3660) -> float:
        """The instant ``seconds`` of working time after ``a`` (the inverse of ``working_seconds``): when a
        running clock reaches its budget. Infinity when the calendar has too few working days to get there."""
        if seconds <= 0:
            return a
        day = dt.datetime.fromtimestamp(a, self.zone).date()
        for _ in range(horizon_days):
            window = self._window(day)
            if window is not None and window[1] > max(a, window[0]):
                start = max(a, window[0])
                if seconds <= window[1] - start:
                    return start + seconds
                seconds -= window[1] - start
            day += dt.timedelta(days=1)
        return float("inf")


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
