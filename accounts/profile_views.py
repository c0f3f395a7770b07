"""Pages for residents (issue #6): the profile page (item 7), T-REG-4 recovery (item 4) and S-REG-1 online
registration requests (item 1). Post/Redirect/Get; no JavaScript."""

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from facilities.models import Municipality, RuleProfile

from . import recovery, registering, selectors
from .forms import EmailForm, LanguageForm, OnlineRequestForm, RecoveryForm, add_problems
from .models import Registration

ONLINE_FIELDS = {"email", "password", "language"}
REQUEST_SESSION_KEY = "accounts.registration_request"


def online_fields(user, profile) -> set[str]:
    """What ``user`` may change online: staff everything; residents what their profile lists (T-REG-3)."""
    if profile is None or user.account_kind == user.AccountKind.STAFF:
        return set(ONLINE_FIELDS)
    return profile.online_profile() & ONLINE_FIELDS


@never_cache
@login_required
def profile(request):
    """Residents see their own account only: nothing here takes an id. What it shows is
    ``accounts.selectors.account_of``, as ``GET /api/v1/me`` does."""
    user = request.user
    account = selectors.account_of(user)
    rule_profile = account.rule_profile
    allowed = online_fields(user, rule_profile)
    email_form = EmailForm(request.POST if "save_email" in request.POST else None, initial={"email": user.email})
    language_form = LanguageForm(
        request.POST if "save_language" in request.POST else None, initial={"language": user.language}
    )
    if request.method == "POST":
        if "save_email" in request.POST and "email" in allowed and email_form.is_valid():
            with transaction.atomic():
                user.email = email_form.cleaned_data["email"]
                user.save(update_fields=["email"])
                registering.sync_allauth_email(user)
            messages.success(request, _("Your e-mail address is saved."))
            return redirect("accounts:profile")
        if "save_language" in request.POST and "language" in allowed and language_form.is_valid():
            user.language = language_form.cleaned_data["language"]
            user.save(update_fields=["language"])
            messages.success(request, _("The language of your e-mails is saved."))
            return redirect("accounts:profile")
        if ("save_email" in request.POST and "email" not in allowed) or (
            "save_language" in request.POST and "language" not in allowed
        ):
            messages.error(request, _("This can only be changed at the counter."))
            return redirect("accounts:profile")
    return render(
        request,
        "accounts/profile.html",
        {
            "account": user,
            "rule_profile": rule_profile,
            "allowed": allowed,
            "validity": account.validity,
            "registration": account.registration,
            "proxies": user.family_proxies.all(),
            "email_form": email_form,
            "language_form": language_form,
            "municipality": user.municipality,
        },
    )


def recover(request):
    """T-REG-4: the same answer, after the same work, whether or not the three facts match an account."""
    if not RuleProfile.objects.filter(id_recovery_by_name_phone_email=True).exists():
        raise Http404
    form = RecoveryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if ratelimit.consume(request, action="yoyaku_recovery"):
            recovery.request_recovery(**form.cleaned_data, base_url=request.build_absolute_uri("/"))
            return redirect("accounts:recover_sent")
        messages.error(request, _("Too many requests from your connection. Please try again later."))
    return render(request, "accounts/recover.html", {"form": form})


def recover_sent(request):
    return render(request, "accounts/recover_sent.html")


def registration_request(request, municipality):
    """S-REG-1: ask for a registration online; it stays pending until the identity is checked at the counter."""
    muni = get_object_or_404(Municipality, slug=municipality)
    rule_profile = RuleProfile.objects.filter(municipality=muni, online_registration_requests=True).first()
    if rule_profile is None:
        raise Http404(_("This municipality takes registration requests at the counter only."))
    form = OnlineRequestForm(rule_profile, request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not ratelimit.consume(request, action="yoyaku_registration_request"):
            messages.error(request, _("Too many requests from your connection. Please try again later."))
        else:
            try:
                row = registering.request_online(muni, form.cleaned_data)
            except registering.RegistrationRefused as error:
                add_problems(form, error.problems)
            else:
                request.session[REQUEST_SESSION_KEY] = row.user.username
                return redirect("accounts:registration_requested", muni.slug)
    return render(request, "accounts/request.html", {"form": form, "municipality": muni, "rule_profile": rule_profile})


def registration_requested(request, municipality):
    muni = get_object_or_404(Municipality, slug=municipality)
    username = request.session.get(REQUEST_SESSION_KEY)
    if not username:
        return redirect("accounts:registration_request", muni.slug)
    row = Registration.objects.filter(user__username=username, municipality=muni).first()
    return render(
        request,
        "accounts/request_sent.html",
        {
            "municipality": muni,
            "username": username,
            "last_minute": row.request_last_minute if row else None,
        },
    )
