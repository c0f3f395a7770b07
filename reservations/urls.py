from django.urls import path

from . import views

app_name = "reservations"

urlpatterns = [
    # Confirm page: GET shows what the rules say (Tamba: ?until=HHMM picks the end of a run), POST books.
    path("<slug:municipality>/book/<int:unit_id>/<str:day>/<str:span>/", views.confirm, name="confirm"),
    path("<slug:municipality>/my/bookings/", views.my_bookings, name="my_bookings"),
    # GET asks "cancel this booking?", POST cancels.
    path("<slug:municipality>/my/bookings/<int:booking_id>/cancel/", views.cancel, name="cancel"),
]
