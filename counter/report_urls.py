"""The counter's money reports (issue #5 item 7), under ``/<municipality>/counter/reports/`` (counter/urls.py).

Dates and months are matched loosely (``str``) and parsed by the view, so a malformed one gets a 400 page that
shows the expected form rather than a bare 404."""

from django.urls import path

from . import operations_views
from . import report_views as views

urlpatterns = [
    path("", views.index, name="reports_index"),
    # The daily takings per payment place; the form's ?date= goes through takings_pick to the day's address.
    path("takings/", views.takings_pick, name="reports_takings_pick"),
    path("takings/<str:day>/", views.takings, name="reports_takings"),
    path("takings/<str:day>/csv/", views.takings, {"as_csv": True}, name="reports_takings_csv"),
    # The fees of a month of use per facility; ?month= likewise.
    path("fees/", views.monthly_pick, name="reports_monthly_pick"),
    path("fees/<str:month>/", views.monthly, name="reports_monthly"),
    path("fees/<str:month>/csv/", views.monthly, {"as_csv": True}, name="reports_monthly_csv"),
    # The monthly operations report (administrators, issue #22 item 6); ?month= likewise; a CSV per table.
    path("operations/", operations_views.pick, name="reports_operations_pick"),
    path("operations/<str:month>/", operations_views.report, name="reports_operations"),
    path("operations/<str:month>/<str:table>.csv", operations_views.report, name="reports_operations_csv"),
]
