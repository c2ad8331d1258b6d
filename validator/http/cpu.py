"""CPU work off the event loop, one piece at a time per worker.

Validation is pure Python: threads in one process share one core's worth of interpreter (the GIL), so running
several at once is no faster, and every extra runnable thread delays the event loop's turn (measured: /health took
over a second with three large requests in flight). One validation at a time per worker keeps the loop, and so
/health and the header/body timeouts, responsive; the others wait their turn without using CPU (their CPU budget,
MEDVAL_REQUEST_BUDGET_S, counts this thread's CPU time, so waiting costs none of it).
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()


def _cpu_limiter() -> anyio.CapacityLimiter:
    """One per event loop (a worker has one; tests run many, and a limiter belongs to the loop it was made in)."""
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(1)
    return limiter


async def run_cpu(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """func(*args, **kwargs) in a worker thread, after the validations ahead of it (context variables carried over)."""
    return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs), limiter=_cpu_limiter())
