"""The personal API tokens page: list, create (the token is shown once), revoke. Post/Redirect/Get throughout.

Creating a token asks for the password (or PIN) again when the log-in is older than
``ACCOUNT_REAUTHENTICATION_TIMEOUT`` (allauth's reauthentication, accounts.credentials.reauthentication_needed):
allauth keeps the POST in the session, asks, and then runs it, so the name and lifetime typed are not lost.
"""

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import credentials
from .models import TOKEN_LIFETIMES, ApiToken, Revocation

# The new token waits in the session for the redirect that follows its creation, and is removed when shown.
NEW_TOKEN_SESSION_KEY = "accounts.new_api_token"


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        strip=True,
        help_text=gettext_lazy("What the token is for, e.g. “calendar sync”."),
    )
    days = forms.TypedChoiceField(
        label=gettext_lazy("Works for"),
        coerce=int,
        initial=365,
        required=False,
        empty_value=365,
        choices=[(30, gettext_lazy("30 days")), (90, gettext_lazy("90 days")), (365, gettext_lazy("1 year"))],
        help_text=gettext_lazy("After that it stops working; you can make a new one at any time."),
    )


@never_cache
@login_required
@reauthentication_required(allow_get=True)
def tokens(request):
    if request.method == "POST":
        form = TokenForm(request.POST)
        if form.is_valid():
            try:
                row, token = credentials.issue_token(
                    request.user, name=form.cleaned_data["name"], lifetime=TOKEN_LIFETIMES[form.cleaned_data["days"]]
                )
            except credentials.CredentialRefused as refused:
                messages.error(request, refused.message)
            else:
                request.session[NEW_TOKEN_SESSION_KEY] = {"id": row.pk, "token": token}
            return redirect("accounts:tokens")
    else:
        form = TokenForm()
    new_token = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    rows = list(ApiToken.objects.of_user(request.user))
    if new_token:
        new_token["row"] = next((r for r in rows if r.pk == new_token["id"]), None)
    return render(
        request,
        "accounts/tokens.html",
        {
            "form": form,
            "tokens": rows,
            "new_token": new_token,
            "municipality": request.user.municipality,
        },
    )


@require_POST
@login_required
def revoke(request, pk: int):
    row = ApiToken.objects.of_user(request.user).filter(pk=pk).first()
    if row is None:
        raise Http404(_("You have no such API token."))
    if row.is_active:
        row.revoke(Revocation.BY_USER)
        messages.success(request, _("The token “%(name)s” is revoked: it no longer works.") % {"name": row.name})
    return redirect("accounts:tokens")
