from django.urls import path

from . import resident_views as views

app_name = "fees"

urlpatterns = [
    # Step ③ of booking: the booking just made and what happens next (the booking POST redirects here).
    path("<slug:municipality>/my/bookings/<int:booking_id>/booked/", views.booked, name="booked"),
    # The use permit of a paid booking: its user and the municipality's staff (A4; ?paper=receipt for 80 mm).
    path("<slug:municipality>/bookings/<int:booking_id>/permit/", views.permit, name="permit"),
    # S-WX-1 振替 online: the free slots a rained-off or heat-stopped booking may move to (?unit=, ?month=YYYY-MM)…
    path("<slug:municipality>/my/bookings/<int:booking_id>/transfer/", views.my_transfer, name="transfer"),
    # …and one of them: GET shows it with the rules' answer, POST transfers (then back to my bookings).
    path(
        "<slug:municipality>/my/bookings/<int:booking_id>/transfer/<int:unit_id>/<str:day>/<str:span>/",
        views.my_transfer_confirm,
        name="transfer_confirm",
    ),
]
