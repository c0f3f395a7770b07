"""Writes of the monthly lottery. Each use case is one transaction; the package's modules hold the sub-domains:

- ``months`` — months, the lottery policy, the lottery-phase windows and the draw's timeline (K-LOT-1, K-LOT-3).
- ``applications`` — ``evaluate``, ``apply``, ``withdraw`` (K-LOT-1/2, S-LOT-1/2/3, S-REG-4).
- ``draws`` — ``ensure_draw``, ``commit``, ``draw``, the saved results and the published documents (K-LOT-3,
  S-LOT-4).
- ``wins`` — ``confirm_win``, ``forfeit_win``, ``purge_unconfirmed`` (S-LOT-5).
- ``notices`` — ``send_result_notices``: the results e-mail, once per applicant with an address (K-LOT-3).
- ``errors`` — ``LotteryError``: refusals reuse ``reservations.rules.Refusal`` with rule ids; errors are
  ``reservations.services.BookingError`` subclasses so that pages and API can treat them alike.

The names below are re-exported, so callers write ``from lottery import services`` and ``services.apply(...)``.
"""

from lottery import algorithm

from .applications import (
    Check,
    already_applied,
    apply,
    counted_refusals,
    evaluate,
    window_for,
    withdraw,
)
from .draws import (
    LOSS_HISTORY_DRAWS,
    DrawReport,
    _loss_weights,
    commit,
    draw,
    ensure_draw,
    entry_text,
    export_document,
    list_document,
)
from .errors import ApplicationRefused, LotteryError
from .months import (
    Timeline,
    add_months,
    application_period,
    lottery_windows,
    month_label,
    month_of,
    policy_of,
    timeline,
)
from .notices import SEND_PER_RUN, prepare_result_notices, result_message, send_result_notices
from .wins import UNCONFIRMED, _free, confirm_win, confirmation_refusal, forfeit_win, purge_unconfirmed

__all__ = [
    "LOSS_HISTORY_DRAWS",
    "SEND_PER_RUN",
    "UNCONFIRMED",
    "ApplicationRefused",
    "Check",
    "DrawReport",
    "LotteryError",
    "Timeline",
    "_free",
    "_loss_weights",
    "add_months",
    "algorithm",
    "already_applied",
    "application_period",
    "apply",
    "commit",
    "confirm_win",
    "confirmation_refusal",
    "counted_refusals",
    "draw",
    "ensure_draw",
    "entry_text",
    "evaluate",
    "export_document",
    "forfeit_win",
    "list_document",
    "lottery_windows",
    "month_label",
    "month_of",
    "policy_of",
    "prepare_result_notices",
    "purge_unconfirmed",
    "result_message",
    "send_result_notices",
    "timeline",
    "window_for",
    "withdraw",
]
