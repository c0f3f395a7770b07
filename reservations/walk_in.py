"""Walk-ins (S-FC-3): a person without registration booked at the counter, with a name and a phone, paid at once.

Whether a municipality takes them is its rule profile's data (``RuleProfile.walk_in_rule_id``: Shiroi "S-FC-3";
empty in Kodaira and Tamba, whose bookings need a registration: K-REG-1, T-REG-1). The booking has no account:
``Reservation.user`` is empty and ``walk_in_name``/``walk_in_phone`` say who it is (a database constraint keeps
exactly one of the two). A walk-in pays the general fee; a non-resident pays the non-resident surcharge
(S-REG-4, S-FEE-1), as the clerk chooses; no fee exemption, no monthly limit (S-FC-4 counts a registered
person's slots).
"""

import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _

NAME_MAX = 120
# A Japanese phone number: 0 and 9 or 10 more digits (fixed lines 10, mobiles 11), hyphens, spaces or brackets
# between them allowed: 047-492-1111, 090 1234 5678, (047)492-1111. Full-width digits are accepted too.
PHONE_SHAPE = re.compile(r"^[0-9()\- ]+$")


@dataclass(frozen=True)
class WalkIn:
    """The person a walk-in booking is for. Quacks like a user where the fee rules ask (fees.rules.quote)."""

    name: str
    phone: str
    resident: bool = True

    pk = None  # no account
    fee_category = "general"

    @property
    def is_resident(self) -> bool:
        return self.resident

    def __str__(self) -> str:
        return self.name


class WalkInInvalid(ValueError):
    """The name or phone of the form is not usable; ``errors`` maps the field to a message for the clerk."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def normalize_phone(text: str) -> str:
    """Full-width digits and hyphens to ASCII (０４７ー４９２ → 047-492), outer spaces removed."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    return re.sub(r"[ー−‐–—]", "-", text)


def clean(*, name: str, phone: str, resident: bool = True) -> WalkIn:
    """The walk-in of a counter form, or WalkInInvalid saying which field is wrong and how to write it."""
    errors = {}
    name = " ".join((name or "").split())
    if not name:
        errors["walk_in_name"] = _("Name: enter the name of the person the booking is for.")
    elif len(name) > NAME_MAX:
        errors["walk_in_name"] = _("Name: at most %(count)s characters.") % {"count": NAME_MAX}
    phone = normalize_phone(phone)
    digits = re.sub(r"\D", "", phone)
    if not phone:
        errors["walk_in_phone"] = _("Phone: enter a phone number at which the person can be reached.")
    elif not PHONE_SHAPE.match(phone) or not digits.startswith("0") or len(digits) not in (10, 11) or len(phone) > 20:
        errors["walk_in_phone"] = _(
            "Phone: “%(text)s” is not a Japanese phone number. Enter 10 or 11 digits starting with 0, hyphens "
            "allowed, e.g. 047-492-1111 or 090-1234-5678."
        ) % {"text": phone[:30]}
    if errors:
        raise WalkInInvalid(errors)
    return WalkIn(name=name, phone=phone, resident=resident)
