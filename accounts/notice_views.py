"""The notifications page (issue #8 item 4): every notice addressed to the logged-in user, newest first, with its
text. The same ``accounts.Notice`` rows are the e-mail outbox staff read in the admin; a user without an e-mail
address sees here what would have been mailed. Only one's own: anyone else's notice is a 404, the same as one
that does not exist. Read-only: no POST. The list is ``accounts.selectors.notices_of``, as in
``GET /api/v1/{muni}/notifications``."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .selectors import PER_PAGE, notices_of


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def notifications(request):
    page = Paginator(
        notices_of(request.user).only("id", "kind", "subject", "email", "created_at", "sent_at"), PER_PAGE
    ).get_page(request.GET.get("page"))
    return render(request, "accounts/notifications.html", {"page": page, "municipality": request.user.municipality})


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def notification(request, pk: int):
    notice = notices_of(request.user).filter(pk=pk).first()
    if notice is None:
        raise Http404(_("You have no such notification."))
    return render(request, "accounts/notification.html", {"notice": notice, "municipality": request.user.municipality})
