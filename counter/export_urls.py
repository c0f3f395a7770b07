"""The counter's exports and usage statistics (issue #7 item 5), under ``/<municipality>/counter/exports/``
(counter/urls.py).

Months are matched loosely (``str``) and parsed by the view, so a malformed one gets a 400 page that shows the
expected form rather than a bare 404."""

from django.urls import path

from . import export_views as views

urlpatterns = [
    path("", views.index, name="exports_index"),
    # CSV files of a month of use; each form's ?month= goes through pick to the file's own address.
    path("bookings/", views.pick, {"target": "bookings"}, name="exports_bookings_pick"),
    path("bookings/<str:month>/", views.monthly_file, {"kind": "bookings"}, name="exports_bookings"),
    # Payments and refunds recorded in a month (the clerk's facility scope applied).
    path("payments/", views.pick, {"target": "payments"}, name="exports_payments_pick"),
    path("payments/<str:month>/", views.payments, name="exports_payments"),
    path("lottery/applications/", views.pick, {"target": "applications"}, name="exports_applications_pick"),
    path(
        "lottery/applications/<str:month>/", views.monthly_file, {"kind": "applications"}, name="exports_applications"
    ),
    path("lottery/results/", views.pick, {"target": "results"}, name="exports_results_pick"),
    path("lottery/results/<str:month>/", views.results, name="exports_results"),
    # Occupancy and competition on screen: ?from=YYYY-MM&to=YYYY-MM&facility=<code>.
    path("statistics/", views.usage, name="exports_statistics"),
]
