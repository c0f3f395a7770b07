"""Running attempts at the same instant from several threads, each with its own database connection (PostgreSQL
concurrency tests of bookings, lottery applications and payments)."""

import threading

import time_machine
from django.db import connection

from reservations.services import BookingError


def run_together(moment, attempts, success: str) -> list[str]:
    """Run each ``attempts[i]()`` in its own thread, all released at once by a Barrier, at ``moment``.
    Returns each outcome: ``success``, or the refusal codes joined by commas (any BookingError: bookings,
    lottery applications, payments), or "error: …" for anything else."""
    barrier = threading.Barrier(len(attempts))
    outcomes = [None] * len(attempts)

    def worker(index, attempt):
        try:
            connection.ensure_connection()  # connect before the start line, so that they really start together
            barrier.wait(timeout=30)
            attempt()
            outcomes[index] = success
        except BookingError as error:
            outcomes[index] = ",".join(refusal.code for refusal in error.refusals)
        except Exception as error:
            outcomes[index] = f"error: {error!r}"
        finally:
            connection.close()

    with time_machine.travel(moment, tick=False):
        threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(attempts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return outcomes
