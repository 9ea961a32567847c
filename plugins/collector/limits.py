"""Request rate limits kept in memory by the server: a token bucket per key (agent, or address for /enroll)."""

from __future__ import annotations

import math
import threading
import time


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._state: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """0 when the request may go ahead, else the whole seconds to wait (the Retry-After header)."""
        with self._lock:
            now = time.monotonic()
            tokens, at = self._state.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            if tokens >= 1:
                self._state[key] = (tokens - 1, now)
                return 0
            self._state[key] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.rate))
