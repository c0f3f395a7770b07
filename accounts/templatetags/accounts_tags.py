"""Template tags of the accounts app."""

from django import template

register = template.Library()


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
