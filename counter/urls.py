"""The counter console (窓口, issue #7), under ``/<municipality>/counter/`` (config/urls.py)."""

from django.urls import include, path

from . import views

app_name = "counter"

urlpatterns = [
    # The sections, each in its own module and all in this one namespace: counter:accounts_…, counter:money_…,
    # counter:reports_…, counter:exports_….
    path("accounts/", include("counter.account_urls")),
    path("money/", include("counter.money_urls")),
    path("reports/", include("counter.report_urls")),
    path("exports/", include("counter.export_urls")),
    # Home: user search (?q=), links to the day sheet and overrides.
    path("", views.home, name="home"),
    path("users/<int:user_id>/", views.user_detail, name="user"),
    # Slots chosen on the day's board (?date=&slot=<unit>|<HHMM-HHMM>…&user=): one form, one payment, one permit.
    path("book/", views.book_slots, name="book_slots"),
    # GET ?unit=&date=&channel= shows the day's slots with the rules' answers; POST books (counter or phone).
    path("users/<int:user_id>/book/", views.book, name="book"),
    # S-FC-3: a person without registration (name, phone), paid at once; GET ?unit=&date=&residency=&span=.
    path("walk-in/", views.walk_in, name="walk_in"),
    # K-LOT-1: a lottery application entered by the clerk; GET ?unit=&date=, POST applies.
    path("users/<int:user_id>/lottery/", views.lottery_apply, name="lottery"),
    # K-LOT-1, S-LOT-1: the clerk withdraws an application while the counter's lottery window is open; GET asks,
    # POST does.
    path("applications/<int:application_id>/withdraw/", views.lottery_withdraw, name="lottery_withdraw"),
    # The day sheet: ?facility=<code>&date=YYYY-MM-DD; printable.
    path("day/", views.day_sheet, name="day_sheet"),
    path("bookings/<int:booking_id>/key/<slug:action>/", views.key, name="key"),  # POST: lent, returned
    path("bookings/<int:booking_id>/report/", views.use_report, name="use_report"),  # K-USE-1
    # T-APP-5 grants and blocks for maintenance or a municipal event.
    path("override/", views.override, name="override"),
    # A block (maintenance, municipal event) released before it starts; GET asks, POST does.
    path("bookings/<int:booking_id>/release/", views.release_block, name="release_block"),
]
