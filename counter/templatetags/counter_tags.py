"""The console's words for codes (issue #22, item 4): a rule id of RULES.md (K-FC-3, S-PAY-2, T-APP-1, X-3) is shown
as a small reference after its sentence; a system code (``slot_taken``, ``place_closed``) never shows at all."""

import re

from django import template
from django.utils.html import format_html

register = template.Library()

RULE_ID = re.compile(r"^(?:[A-Z]-[A-Z]{2,5}-\d+[a-z]?|X-\d+)$")


def is_rule_id(code) -> bool:
    return bool(code) and bool(RULE_ID.match(str(code)))


@register.filter
def rule_ref(value) -> str:
    """``{{ refusal|rule_ref }}`` or ``{{ "S-FC-3"|rule_ref }}``: `` <span class="rule-id">S-FC-3</span>`` for a rule
    id, nothing for anything else (a system code, an empty string)."""
    code = getattr(value, "code", value)
    if not is_rule_id(code):
        return ""
    return format_html(' <span class="rule-id">{}</span>', code)
