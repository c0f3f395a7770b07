"""Password rules per profile: Kodaira's groups choose a **4-digit numeric PIN** (K-REG-1; ``RuleProfile.pin_digits``),
everyone else an ordinary password checked by Django's usual validators.

``ProfilePasswordValidator`` is the one entry of ``AUTH_PASSWORD_VALIDATORS``: every path that sets a password
(allauth's change and reset-by-e-mail pages, the counter's PIN reset, registration) asks ``validate_password(pw,
user)`` and gets the rule of the user's municipality. Without a user (or with one not saved yet and no
municipality) the ordinary validators apply.
"""

import re

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config.tenancy import pk_of

ORDINARY_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]


def pin_rule_for(user=None, municipality=None) -> tuple[int, str] | None:
    """(PIN length, rule id) of the user's (or the municipality's) profile; None for ordinary passwords. Staff
    never use PINs."""
    from facilities.models import RuleProfile

    if user is not None:
        if getattr(user, "account_kind", "staff") == "staff":
            return None
        municipality_id = user.municipality_id
    else:
        municipality_id = pk_of(municipality)
    if municipality_id is None:
        return None
    row = (
        RuleProfile.objects.filter(municipality_id=municipality_id).values_list("pin_digits", "account_rule_id").first()
    )
    if not row or not row[0]:
        return None
    return row[0], row[1] or "K-REG-1"


def validate_pin(password: str, digits: int, rule_id: str = "K-REG-1") -> None:
    if not re.fullmatch(rf"[0-9]{{{digits}}}", password or ""):
        raise ValidationError(
            ngettext(
                "The password must be exactly %(digits)d digit (%(rule)s).",
                "The password must be exactly %(digits)d digits, numbers only (%(rule)s).",
                digits,
            )
            % {"digits": digits, "rule": rule_id},
            code="pin_format",
        )


class ProfilePasswordValidator:
    def __init__(self):
        self._ordinary = password_validation.get_password_validators(ORDINARY_VALIDATORS)

    def validate(self, password, user=None):
        pin = pin_rule_for(user) if user is not None else None
        if pin:
            validate_pin(password, *pin)
            return
        password_validation.validate_password(password, user, password_validators=self._ordinary)

    def get_help_text(self):
        return _(
            "Kodaira groups: a PIN of 4 digits (K-REG-1). Others: at least 8 characters, not only digits, not a common "
            "password."
        )
