"""The lottery's refusals: ``LotteryError`` (and ``ApplicationRefused``) carry ``reservations.rules.Refusal``
objects with rule ids. They are ``reservations.services.BookingError`` subclasses so that pages and API can treat
them alike.
"""

from reservations import rules
from reservations.services import BookingError


class LotteryError(BookingError):
    """A lottery action that was refused; ``refusals`` carry rule ids."""


class ApplicationRefused(LotteryError):
    pass


def _refuse(code: str, message: str, error=LotteryError):
    raise error([rules.Refusal(code, message)])
