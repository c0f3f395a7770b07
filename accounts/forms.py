"""Forms of registration (counter and online request), the counter's account screens, the profile page and
T-REG-4 recovery. Which fields a registration form has follows the rule profile (accounts/rules.py); errors
name the rule they come from."""

from allauth.account.adapter import get_adapter
from allauth.account.forms import ChangePasswordForm as AllauthChangePasswordForm
from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.mfa.adapter import get_adapter as get_mfa_adapter
from allauth.mfa.base.forms import AuthenticateForm as MfaAuthenticateFormBase
from allauth.mfa.base.forms import ReauthenticateForm as MfaReauthenticateFormBase
from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config import clock

from . import passwords, rules
from .models import IdentityDocument, User

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class LoginForm(AllauthLoginForm):
    """allauth's log-in form, in the portal's words: a *user ID* (利用者ID) or an e-mail address."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        label = gettext_lazy("User ID or e-mail address")
        self.fields["login"].label = label
        self.fields["login"].widget.attrs.update({"autocomplete": "username", "autocapitalize": "none"})
        self.fields["login"].widget.attrs.pop("placeholder", None)  # the label says it; a placeholder repeats it
        self.fields["password"].widget.attrs.pop("placeholder", None)
        self.fields["password"].help_text = ""  # "Forgot your password?": the section below the form says more


class ChangePasswordForm(AllauthChangePasswordForm):
    """allauth's change page checks the current password with ``check_password``, outside the log-in throttle:
    someone holding a session could try PINs there (K-REG-1). Here the check is a reauthentication through the
    adapter, so it is counted and refused like a log-in (accounts/throttle.py)."""

    def clean_oldpassword(self) -> str:
        password = self.cleaned_data.get("oldpassword", "")
        if not get_adapter().reauthenticate(self.user, password):
            raise get_adapter().validation_error("enter_current_password")
        return password


class PhoneForm(forms.Form):
    """A form that fits a 375-px phone: no field is wider than the screen (a long choice label makes a select
    wider than its column otherwise). The site's CSS is shared with other pages; an inline max-width is enough."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            wide = isinstance(field.widget, forms.Select) and not isinstance(field.widget, forms.RadioSelect)
            # A select with a percentage width no longer widens its grid column to its longest choice.
            field.widget.attrs.setdefault("style", "width: 100%; max-width: 30rem" if wide else "max-width: 100%")


class PasswordPairMixin:
    """Two password fields (a PIN with ``pin_digits``) checked against the profile's rule."""

    def add_password_fields(self, pin: tuple[int, str] | None, required=True):
        self.pin = pin
        attrs = {"autocomplete": "new-password"}
        if pin:
            attrs |= {"inputmode": "numeric", "pattern": "[0-9]*", "maxlength": pin[0]}
            label, help_text = (
                _("PIN (%(digits)d digits)") % {"digits": pin[0]},
                _("Numbers only (%(rule)s).") % {"rule": pin[1]},
            )
        else:
            label, help_text = (
                _("Password"),
                password_validation.password_validators_help_text_html(
                    password_validation.get_password_validators(passwords.ORDINARY_VALIDATORS)
                ),
            )
        self.fields["password"] = forms.CharField(
            label=label, help_text=help_text, strip=False, required=required, widget=forms.PasswordInput(attrs=attrs)
        )
        self.fields["password2"] = forms.CharField(
            label=_("The same again"), strip=False, required=required, widget=forms.PasswordInput(attrs=attrs)
        )

    def clean_password_pair(self, user=None):
        password, again = self.cleaned_data.get("password"), self.cleaned_data.get("password2")
        if not password:
            return
        if password != again:
            self.add_error("password2", _("The two entries differ."))
            return
        try:
            if self.pin:
                passwords.validate_pin(password, *self.pin)
            else:
                password_validation.validate_password(
                    password,
                    user,
                    password_validators=password_validation.get_password_validators(passwords.ORDINARY_VALIDATORS),
                )
        except ValidationError as error:
            self.add_error("password", error)


def add_problems(form, problems: list[rules.Problem]) -> None:
    for problem in problems:
        form.add_error(problem.field if problem.field in form.fields else None, problem.message)


class RegistrationForm(PasswordPairMixin, PhoneForm):
    """Counter registration; the fields follow ``profile.registration_kind`` and the profile's flags."""

    display_name = forms.CharField(label=gettext_lazy("Name"), max_length=150)
    address = forms.CharField(label=gettext_lazy("Address"), max_length=300)
    phone = forms.CharField(
        label=gettext_lazy("Phone"), max_length=40, widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"})
    )
    email = forms.EmailField(
        label=gettext_lazy("E-mail (optional)"),
        required=False,
        help_text=gettext_lazy("For password reset by e-mail and notices."),
    )
    language = forms.ChoiceField(label=gettext_lazy("Language of e-mails"), choices=settings.LANGUAGES, initial="ja")
    identity_document = forms.ChoiceField(
        label=gettext_lazy("Identity document checked"),
        choices=IdentityDocument.choices,
        help_text=gettext_lazy("Only its type is recorded, never the document or its number."),
    )
    note = forms.CharField(label=gettext_lazy("Note for the audit log (optional)"), required=False, max_length=500)

    def __init__(self, profile, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.profile = profile
        kind = profile.registration_kind
        if kind == User.AccountKind.GROUP:
            self.fields["display_name"].label = _("Name of the group")
            self.fields["person_name"] = forms.CharField(label=_("Representative"), max_length=150)
            self.fields["address"].label = _("Representative's address")
            self.fields["member_count"] = forms.IntegerField(label=_("Members"), min_value=1)
            self.fields["resident_member_count"] = forms.IntegerField(
                label=_("Members who live, work or study in the municipality"), min_value=0
            )
            self.fields["representative_is_resident"] = forms.BooleanField(
                label=_("The representative lives, works or studies in the municipality"), required=False
            )
            self.fields["monthly_fee"] = forms.IntegerField(
                label=_("Membership fee a month, instructor fees included (yen; 0 if none)"), min_value=0, initial=0
            )
        if kind == User.AccountKind.INDIVIDUAL:
            self.fields["birth_date"] = forms.DateField(label=_("Birth date"), widget=DATE_INPUT)
        if kind in (User.AccountKind.INDIVIDUAL, User.AccountKind.CARD_HOLDER):
            self.fields["residency"] = forms.ChoiceField(label=_("Residency"), choices=User.Residency.choices)
        if profile.guardian_consent_until_grade is not None:
            self.fields["guardian_name"] = forms.CharField(
                label=_("Guardian who signed the consent"),
                required=False,
                max_length=150,
                help_text=_("Needed for elementary and junior-high pupils (%(rule)s).")
                % {"rule": profile.consent_rule_id or "S-REG-2"},
            )
        if profile.student_id_required:
            self.fields["student_id_checked"] = forms.BooleanField(
                label=_("Student ID seen (student rate)"),
                required=False,
                help_text=_("Without it a high-school or university student pays the general rate (%(rule)s).")
                % {"rule": profile.consent_rule_id or "S-REG-2"},
            )
        if profile.card_numbers:
            self.fields["card_number"] = forms.CharField(label=_("Card number"), max_length=40)
        self.add_password_fields(passwords.pin_rule_for(municipality=profile.municipality_id))
        self.order_fields(
            [
                "display_name",
                "person_name",
                "member_count",
                "resident_member_count",
                "representative_is_resident",
                "monthly_fee",
                "birth_date",
                "guardian_name",
                "student_id_checked",
                "residency",
                "address",
                "phone",
                "email",
                "card_number",
                "identity_document",
                "password",
                "password2",
                "language",
                "note",
            ]
        )

    def clean_card_number(self):
        number = self.cleaned_data["card_number"].strip()
        from .models import Registration

        if Registration.objects.filter(municipality_id=self.profile.municipality_id, card_number=number).exists():
            raise ValidationError(_("This card number is already registered."))
        return number

    def clean(self):
        data = super().clean()
        self.clean_password_pair()
        today = clock.today()
        profile = self.profile
        if profile.registration_kind == User.AccountKind.GROUP and all(
            data.get(k) is not None for k in ("member_count", "resident_member_count", "monthly_fee")
        ):
            if data["resident_member_count"] > data["member_count"]:
                self.add_error("resident_member_count", _("More residents than members."))
            else:
                add_problems(
                    self,
                    rules.group_problems(
                        profile,
                        member_count=data["member_count"],
                        resident_member_count=data["resident_member_count"],
                        representative_is_resident=data.get("representative_is_resident", False),
                        monthly_fee=data["monthly_fee"],
                    ),
                )
        if data.get("birth_date") and profile.min_school_grade is not None:
            add_problems(
                self,
                rules.individual_problems(
                    profile,
                    birth_date=data["birth_date"],
                    guardian_consent=bool(data.get("guardian_name")),
                    today=today,
                ),
            )
        return data


class OnlineRequestForm(PasswordPairMixin, PhoneForm):
    """S-REG-1: a registration request made online; identity, guardian's consent and student ID are checked at the
    counter."""

    display_name = forms.CharField(label=gettext_lazy("Name"), max_length=150)
    birth_date = forms.DateField(label=gettext_lazy("Birth date"), widget=DATE_INPUT)
    address = forms.CharField(label=gettext_lazy("Address"), max_length=300)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, widget=forms.TextInput(attrs={"type": "tel"}))
    email = forms.EmailField(label=gettext_lazy("E-mail"))
    residency = forms.ChoiceField(label=gettext_lazy("Residency"), choices=User.Residency.choices)
    language = forms.ChoiceField(label=gettext_lazy("Language of e-mails"), choices=settings.LANGUAGES, initial="ja")

    def __init__(self, profile, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.profile = profile
        self.add_password_fields(passwords.pin_rule_for(municipality=profile.municipality_id))

    def clean(self):
        data = super().clean()
        self.clean_password_pair()
        if data.get("birth_date") and self.profile.min_school_grade is not None:
            add_problems(
                self,
                rules.individual_problems(
                    self.profile, birth_date=data["birth_date"], guardian_consent=True, today=clock.today()
                ),
            )
        return data


class ApproveForm(PhoneForm):
    """S-REG-1/2/4 at the counter: what staff checked when the person came with the identity document."""

    identity_document = forms.ChoiceField(
        label=gettext_lazy("Identity document checked"), choices=IdentityDocument.choices
    )
    residency = forms.ChoiceField(label=gettext_lazy("Residency"), choices=User.Residency.choices)
    note = forms.CharField(label=gettext_lazy("Note for the audit log (optional)"), required=False, max_length=500)

    def __init__(self, profile, registration, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.profile, self.registration = profile, registration
        if registration.birth_date and rules.needs_guardian_consent(profile, registration.birth_date, clock.today()):
            self.fields["guardian_name"] = forms.CharField(
                label=_("Guardian who signed the consent"),
                max_length=150,
                help_text=_("Elementary and junior-high pupils need it (%(rule)s).")
                % {"rule": profile.consent_rule_id or "S-REG-2"},
            )
        if profile.student_id_required:
            self.fields["student_id_checked"] = forms.BooleanField(
                label=_("Student ID seen (student rate)"), required=False
            )


class RejectForm(PhoneForm):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


class CounterPasswordForm(PasswordPairMixin, PhoneForm):
    """K-REG-4: a new PIN or password typed by the user at the counter."""

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.add_password_fields(passwords.pin_rule_for(user))

    def clean(self):
        data = super().clean()
        self.clean_password_pair(self.user)
        return data


class ReissueForm(PasswordPairMixin, PhoneForm):
    """T-REG-2: the new card's number, the identity document seen and the new registration's password."""

    card_number = forms.CharField(label=gettext_lazy("New card number"), max_length=40)
    identity_document = forms.ChoiceField(
        label=gettext_lazy("Identity document checked"), choices=IdentityDocument.choices
    )
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason"),
        choices=[
            ("lost", gettext_lazy("Card lost")),
            ("damaged", gettext_lazy("Card damaged")),
        ],
    )

    def __init__(self, profile, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.profile = profile
        self.add_password_fields(passwords.pin_rule_for(municipality=profile.municipality_id))

    clean_card_number = RegistrationForm.clean_card_number

    def clean(self):
        data = super().clean()
        self.clean_password_pair()
        return data


class ChangeDetailsForm(PhoneForm):
    """T-REG-3: changes of name, address, phone or e-mail at the counter, after seeing an identity document."""

    display_name = forms.CharField(label=gettext_lazy("Name"), max_length=150)
    person_name = forms.CharField(label=gettext_lazy("Representative or person"), max_length=150, required=False)
    address = forms.CharField(label=gettext_lazy("Address"), max_length=300, required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=gettext_lazy("E-mail"), required=False)
    identity_document = forms.ChoiceField(
        label=gettext_lazy("Identity document checked"), choices=IdentityDocument.choices
    )


class ProxyForm(PhoneForm):
    name = forms.CharField(label=gettext_lazy("Name of the family member"), max_length=150)
    relation = forms.CharField(label=gettext_lazy("Relation"), max_length=60)


class DuplicateReviewForm(PhoneForm):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        widget=forms.RadioSelect,
        choices=[
            ("keep", gettext_lazy("Not a duplicate: keep the registration")),
            ("withdraw", gettext_lazy("A duplicate: withdraw this registration")),
        ],
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)


class SearchForm(PhoneForm):
    q = forms.CharField(label=gettext_lazy("User ID, name or phone"), max_length=100, required=False)


# The profile page (item 7) -------------------------------------------------------------------------------------


class EmailForm(PhoneForm):
    email = forms.EmailField(
        label=gettext_lazy("E-mail"),
        required=False,
        help_text=gettext_lazy("Leave empty to receive no e-mail (notices are then shown here)."),
    )


class LanguageForm(PhoneForm):
    language = forms.ChoiceField(label=gettext_lazy("Language of e-mails"), choices=settings.LANGUAGES)


# T-REG-4 recovery ----------------------------------------------------------------------------------------------


class RecoveryForm(PhoneForm):
    name = forms.CharField(label=gettext_lazy("Name as registered"), max_length=150)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, widget=forms.TextInput(attrs={"type": "tel"}))
    email = forms.EmailField(label=gettext_lazy("E-mail"))


# Second-factor codes (allauth.mfa, hooked in through settings.MFA_FORMS) -------------------------------------------


class _LimitedCodes:
    """allauth's code check, with wrong codes limited per account (accounts/mfa_throttle.py): each code is counted
    before it is checked; during the wait only recovery codes are checked."""

    def clean_code(self) -> str:
        from accounts import mfa_throttle

        code = self.cleaned_data["code"]
        try:
            attempt = mfa_throttle.begin(self.user.pk, code=code)
        except mfa_throttle.CodesWait as wait:
            raise ValidationError(wait.message(), code="mfa_wait") from None
        try:
            if attempt.checks_totp:
                code = super().clean_code()  # every authenticator of the user, as allauth checks them
            elif not self._is_recovery_code(code):
                raise get_mfa_adapter().validation_error("incorrect_code")
        except ValidationError:
            if attempt.wait_if_wrong is not None:
                self.too_many_wrong_codes(attempt.wait_if_wrong)
            raise
        attempt.succeeded()
        return code

    def _is_recovery_code(self, code: str) -> bool:
        from allauth.mfa.models import Authenticator

        recovery = Authenticator.objects.filter(user=self.user, type=Authenticator.Type.RECOVERY_CODES).first()
        if recovery is None:
            return False
        if not recovery.wrap().validate_code(code):
            self._emit_authentication_failed(recovery)
            return False
        recovery.user = self.user
        self.authenticator = recovery
        return True

    def too_many_wrong_codes(self, wait) -> None:
        raise ValidationError(wait.message(), code="mfa_wait")


class MfaAuthenticateForm(_LimitedCodes, MfaAuthenticateFormBase):
    """The code asked at log-in, after the password (``/accounts/2fa/authenticate/``)."""

    def too_many_wrong_codes(self, wait) -> None:
        # The half-done log-in is dropped: the next try starts again at the password step, with its own throttle.
        from allauth.account.internal.stagekit import clear_login
        from allauth.core import context
        from allauth.core.exceptions import ImmediateHttpResponse
        from django.contrib import messages
        from django.shortcuts import redirect

        request = context.request
        clear_login(request)
        messages.error(request, wait.log_in_again_message())
        raise ImmediateHttpResponse(redirect("account_login"))


class MfaReauthenticateForm(_LimitedCodes, MfaReauthenticateFormBase):
    """The code asked again of a logged-in user before a sensitive change (``/accounts/2fa/reauthenticate/``)."""
