"""Template tags of the accounts app."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()

# "(S-PAY-2)" after a sentence of a notice's text (the e-mail's plain words, templates/emails/*.txt).
_RULE_REFERENCE = re.compile(r"\s?\(([KST]-[A-Z]{2,4}-\d+)\)")


@register.filter
def rule_references(text: str) -> str:
    """A notice's plain text for the page: escaped, with each "(K-FC-4)" after a sentence shown as the small
    ``.rule-id`` reference the other pages use (issue #21 item 1: a rule id is never the message)."""
    return mark_safe(_RULE_REFERENCE.sub(r' <span class="rule-id">\1</span>', escape(text)))  # escaped first


@register.simple_tag
def recovery_options():
    """What the log-in page offers a user who forgot the user ID or password (issue #6 item 4):
    ``by_name_phone_email``: the municipalities whose profile offers T-REG-4 (name, phone and e-mail; the
    ``/accounts/recover/`` page), with the rule id. Reset by e-mail (K-REG-4) applies to every account with an
    address; otherwise a counter registers a new password."""
    from facilities.models import RuleProfile

    profiles = (
        RuleProfile.objects.filter(id_recovery_by_name_phone_email=True)
        .select_related("municipality")
        .order_by("municipality__slug")
    )
    return {"by_name_phone_email": [(p.municipality, p.recovery_rule_id or "T-REG-4") for p in profiles]}


@register.simple_tag
def login_code_minutes() -> int:
    """How long the log-in breaker's e-mailed code is valid (allauth's ACCOUNT_LOGIN_BY_CODE_TIMEOUT), in minutes."""
    from allauth.account import app_settings

    return app_settings.LOGIN_BY_CODE_TIMEOUT // 60
