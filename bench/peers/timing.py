"""The one timing rule of every peer: a warm-up call, then the median of `repeat` calls."""
import statistics
import time


def median_time(fn, repeat):
    fn()  # warm-up: first-call allocation, JIT and plan caches
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
