"""The counter's account screens (issue #6): register, approve online requests (S-REG-1), look up an account,
renew (K-REG-3, S-REG-3, T-REG-1), re-register a PIN or password (K-REG-4), re-issue a card (T-REG-2), change
details (T-REG-3), family proxies (S-REG-5), review possible duplicates (item 6).

Thin views: a form, one service call (accounts/registering.py, accounts/services.py), Post/Redirect/Get. Every
object is looked up inside the municipality from the address, so another municipality's ids are a 404.
"""

from django.contrib import messages
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import registering, registration, services
from accounts.forms import (
    ApproveForm,
    ChangeDetailsForm,
    CounterPasswordForm,
    DuplicateReviewForm,
    ProxyForm,
    RegistrationForm,
    ReissueForm,
    RejectForm,
    SearchForm,
    add_problems,
)
from accounts.models import FamilyProxy, Registration, User
from config import clock

from .staff import clerk_view

SEARCH_LIMIT = 50


def _residents(municipality):
    return User.objects.filter(municipality=municipality).exclude(account_kind=User.AccountKind.STAFF)


def _resident(municipality, pk):
    return get_object_or_404(_residents(municipality).select_related("municipality"), pk=pk)


def _render(request, municipality, template, context):
    return render(request, f"counter/accounts/{template}", {"municipality": municipality, **context})


def _refused(request, form, error: registering.RegistrationRefused):
    if form is not None:
        add_problems(form, error.problems)
    else:
        for problem in error.problems:
            messages.error(request, problem.message)


@clerk_view
def index(request, municipality):
    form = SearchForm(request.GET or None)
    results = None
    if form.is_valid() and form.cleaned_data["q"].strip():
        q = form.cleaned_data["q"].strip()
        results = list(
            _residents(municipality)
            .filter(
                Q(username__icontains=q)
                | Q(display_name__icontains=q)
                | Q(phone__icontains=q)
                | Q(registration__person_name__icontains=q)
            )
            .order_by("username")[:SEARCH_LIMIT]
        )
    return _render(
        request,
        municipality,
        "index.html",
        {
            "form": form,
            "results": results,
            "profile": registering.profile_of(municipality),
            "pending_count": Registration.objects.of(municipality).pending().count(),
            "duplicates_count": Registration.objects.of(municipality).duplicates_to_review().count(),
        },
    )


@clerk_view
def register(request, municipality):
    profile = registering.profile_of(municipality)
    form = RegistrationForm(profile, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = registering.register(request.user, municipality, form.cleaned_data)
        except registering.RegistrationRefused as error:
            _refused(request, form, error)
        else:
            messages.success(
                request,
                _("Registered. The user ID is %(username)s: tell it to the applicant.") % {"username": user.username},
            )
            return redirect("counter:accounts_account", municipality.slug, user.pk)
    return _render(request, municipality, "register.html", {"form": form, "profile": profile})


@clerk_view
def requests(request, municipality):
    pending = Registration.objects.of(municipality).pending().select_related("user").order_by("created_at")
    return _render(request, municipality, "requests.html", {"pending": pending, "now": clock.now()})


@clerk_view
def request_detail(request, municipality, pk):
    registration_row = get_object_or_404(Registration.objects.of(municipality).pending().select_related("user"), pk=pk)
    profile = registering.profile_of(municipality)
    approve_form = ApproveForm(
        profile,
        registration_row,
        request.POST if "approve" in request.POST else None,
        initial={"residency": registration_row.user.residency},
    )
    reject_form = RejectForm(request.POST if "reject" in request.POST else None)
    if request.method == "POST":
        try:
            if "approve" in request.POST and approve_form.is_valid():
                user = registering.approve(request.user, registration_row, approve_form.cleaned_data)
                messages.success(request, _("Registered. The user ID is %(username)s.") % {"username": user.username})
                return redirect("counter:accounts_account", municipality.slug, user.pk)
            if "reject" in request.POST and reject_form.is_valid():
                registering.reject(request.user, registration_row, reject_form.cleaned_data["reason"])
                messages.success(request, _("The request was refused."))
                return redirect("counter:accounts_requests", municipality.slug)
        except registering.RegistrationRefused as error:
            _refused(request, approve_form, error)
    return _render(
        request,
        municipality,
        "request.html",
        {
            "registration": registration_row,
            "approve_form": approve_form,
            "reject_form": reject_form,
            "grade": registering.rules.school_grade(registration_row.birth_date, clock.today())
            if registration_row.birth_date
            else None,
            "now": clock.now(),
        },
    )


@clerk_view
def account(request, municipality, pk):
    user = _resident(municipality, pk)
    profile = registering.profile_of(municipality)
    registration_row = Registration.objects.filter(user=user).select_related("replaces__user").first()
    refusal = registration.renewal_refusal(user, profile, clock.today())
    return _render(
        request,
        municipality,
        "account.html",
        {
            "account": user,
            "registration": registration_row,
            "profile": profile,
            "proxies": user.family_proxies.all(),
            "proxy_form": ProxyForm(),
            "renewal_refusal": refusal,
            "renewed_until": None if refusal else registration.renewed_until(user, profile, clock.today()),
            "replaced_by": Registration.objects.filter(replaces=registration_row).select_related("user").first()
            if registration_row
            else None,
            "carried_over": registering.carried_over(registration_row),
        },
    )


@clerk_view
def renew(request, municipality, pk):
    user = _resident(municipality, pk)
    if request.method == "POST":
        try:
            services.renew(user, request.user)
        except services.RenewalError as error:
            for refusal in error.refusals:
                messages.error(request, f"{refusal.message} ({refusal.code})")
        else:
            messages.success(
                request,
                _("Renewed: valid until %(date)s.") % {"date": formats.date_format(user.valid_until, "DATE_FORMAT")},
            )
        return redirect("counter:accounts_account", municipality.slug, user.pk)
    return redirect("counter:accounts_account", municipality.slug, user.pk)


@clerk_view
def password(request, municipality, pk):
    user = _resident(municipality, pk)
    form = CounterPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        registering.reset_password(request.user, user, form.cleaned_data["password"])
        messages.success(request, _("The new password is registered; the log-in block, if any, is lifted."))
        return redirect("counter:accounts_account", municipality.slug, user.pk)
    return _render(request, municipality, "password.html", {"account": user, "form": form})


@clerk_view
def reissue(request, municipality, pk):
    user = _resident(municipality, pk)
    profile = registering.profile_of(municipality)
    registration_row = get_object_or_404(Registration, user=user, status=Registration.Status.ACTIVE)
    if not profile.card_numbers:
        return redirect("counter:accounts_account", municipality.slug, user.pk)
    form = ReissueForm(profile, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["reason"] = (
            dict(form.fields["reason"].choices)[data["reason"]] + f" ({profile.card_reissue_rule_id or 'T-REG-2'})"
        )
        try:
            new_user = registering.reissue_card(request.user, registration_row, data)
        except registering.RegistrationRefused as error:
            _refused(request, form, error)
        else:
            moved = new_user.carried_over
            messages.success(
                request,
                _(
                    "The old registration %(old)s is withdrawn. The new user ID is %(new)s. Moved to it: %(bookings)d "
                    "booking(s), %(applications)d lottery application(s) (T-REG-2)."
                )
                % {
                    "old": user.username,
                    "new": new_user.username,
                    "bookings": len(moved["bookings"]),
                    "applications": len(moved["applications"]),
                },
            )
            return redirect("counter:accounts_account", municipality.slug, new_user.pk)
    return _render(request, municipality, "reissue.html", {"account": user, "form": form, "profile": profile})


@clerk_view
def change(request, municipality, pk):
    user = _resident(municipality, pk)
    registration_row = Registration.objects.filter(user=user).first()
    initial = {
        "display_name": user.display_name,
        "phone": user.phone,
        "email": user.email,
        "address": registration_row.address if registration_row else "",
        "person_name": registration_row.person_name if registration_row else "",
    }
    form = ChangeDetailsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        registering.change_details(request.user, user, form.cleaned_data)
        messages.success(request, _("The details are changed."))
        return redirect("counter:accounts_account", municipality.slug, user.pk)
    return _render(request, municipality, "change.html", {"account": user, "form": form})


@clerk_view
@require_POST
def add_proxy(request, municipality, pk):
    user = _resident(municipality, pk)
    form = ProxyForm(request.POST)
    if form.is_valid():
        registering.add_proxy(request.user, user, **form.cleaned_data)
        messages.success(request, _("Family proxy added."))
    else:
        messages.error(request, _("Give the family member's name and relation."))
    return redirect("counter:accounts_account", municipality.slug, user.pk)


@clerk_view
@require_POST
def remove_proxy(request, municipality, pk, proxy):
    user = _resident(municipality, pk)
    row = get_object_or_404(FamilyProxy, user=user, pk=proxy)
    registering.remove_proxy(request.user, row)
    messages.success(request, _("Family proxy removed."))
    return redirect("counter:accounts_account", municipality.slug, user.pk)


@clerk_view
def duplicates(request, municipality):
    rows = (
        Registration.objects.of(municipality)
        .duplicates_to_review()
        .select_related("user")
        .prefetch_related("possible_duplicates__registration")
        .order_by("created_at")
    )
    return _render(request, municipality, "duplicates.html", {"rows": rows, "form": DuplicateReviewForm(auto_id=False)})


@clerk_view
@require_POST
def review_duplicate(request, municipality, pk):
    row = get_object_or_404(Registration.objects.of(municipality).duplicates_to_review(), pk=pk)
    form = DuplicateReviewForm(request.POST)
    if form.is_valid():
        registering.review_duplicates(
            request.user, row, withdraw=form.cleaned_data["decision"] == "withdraw", note=form.cleaned_data["note"]
        )
        messages.success(request, _("Reviewed: %(username)s.") % {"username": row.user.username})
    else:
        messages.error(request, _("Choose a decision."))
    return redirect("counter:accounts_duplicates", municipality.slug)
