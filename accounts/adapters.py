from allauth.account.adapter import DefaultAccountAdapter


class NoOpenSignupAdapter(DefaultAccountAdapter):
    """Accounts are registered following each municipality's rules (K-REG-1 at the counter, S-REG-1 with an
    identity check, T-REG-1 with a card), never by an open sign-up form."""

    def is_open_for_signup(self, request):
        return False
