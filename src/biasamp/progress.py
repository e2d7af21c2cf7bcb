"""Progress lines for job logs: items done, throughput and ETA."""

from __future__ import annotations

import logging
import time


class Progress:
    """Log ``done/total``, items/s and ETA at most every ``every`` seconds and at the end."""

    def __init__(self, total: int, what: str, log: logging.Logger, every: float = 10.0):
        self.total, self.what, self.log, self.every = total, what, log, every
        self.start = self.last = time.perf_counter()
        self.done = 0

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self.last >= self.every or self.done >= self.total:
            self.last = now
            rate = self.done / max(now - self.start, 1e-9)
            eta = (self.total - self.done) / rate if rate > 0 else float("inf")
            self.log.info("%d/%d %s, %.2f %s/s, ETA %.0f s",
                          self.done, self.total, self.what, rate, self.what, eta)
