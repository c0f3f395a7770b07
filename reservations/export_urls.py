"""The counter's exports and usage statistics (issue #7 item 5), under ``/<municipality>/counter/exports/``
(config/urls.py).

Months are matched loosely (``str``) and parsed by the view, so a malformed one gets a 400 page that shows the
expected form rather than a bare 404."""

from django.urls import path

from . import export_views as views

app_name = "exports"

urlpatterns = [
    path("", views.index, name="index"),
    # CSV files of a month of use; each form's ?month= goes through pick to the file's own address.
    path("bookings/", views.pick, {"target": "bookings"}, name="bookings_pick"),
    path("bookings/<str:month>/", views.monthly_file, {"kind": "bookings"}, name="bookings"),
    # Payments and refunds recorded in a month (the clerk's facility scope applied).
    path("payments/", views.pick, {"target": "payments"}, name="payments_pick"),
    path("payments/<str:month>/", views.payments, name="payments"),
    path("lottery/applications/", views.pick, {"target": "applications"}, name="applications_pick"),
    path("lottery/applications/<str:month>/", views.monthly_file, {"kind": "applications"}, name="applications"),
    path("lottery/results/", views.pick, {"target": "results"}, name="results_pick"),
    path("lottery/results/<str:month>/", views.results, name="results"),
    # Occupancy and competition on screen: ?from=YYYY-MM&to=YYYY-MM&facility=<code>.
    path("statistics/", views.usage, name="statistics"),
]
