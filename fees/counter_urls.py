"""The counter's money pages (issue #5), under ``/<municipality>/counter/money/`` (config/urls.py)."""

from django.urls import path

from . import views

app_name = "money"

urlpatterns = [
    path("bookings/<int:booking_id>/", views.booking, name="booking"),
    path("bookings/<int:booking_id>/pay/", views.pay, name="pay"),  # POST
    path("bookings/<int:booking_id>/change/", views.change, name="change"),  # POST: keeps the payment
    path("bookings/<int:booking_id>/cancel/", views.cancel, name="cancel"),  # POST, with the refund shown
    path("bookings/<int:booking_id>/weather/", views.weather, name="weather"),  # POST: rain or heat (S-WX-1)
    path("bookings/<int:booking_id>/weather/refund/", views.weather_refund, name="weather_refund"),  # POST
    path("bookings/<int:booking_id>/weather/transfer/", views.weather_transfer, name="weather_transfer"),  # POST
    # GET: the form; POST: the bookings it would cancel; POST with confirm=yes: cancel them (T-CAN-2).
    path("closure/", views.closure, name="closure"),
    # S-WX-1 for a whole site: GET the form, GET with its values the bookings concerned, POST marks them.
    path("weather-day/", views.weather_day, name="weather_day"),
]
