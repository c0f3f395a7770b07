from django.urls import path

from . import views

app_name = "fees"

urlpatterns = [
    # The use permit of a paid booking: its user and the municipality's staff (A4; ?paper=receipt for 80 mm).
    path("<slug:municipality>/bookings/<int:booking_id>/permit/", views.permit, name="permit"),
]
