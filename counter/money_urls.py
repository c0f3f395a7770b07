"""The counter's money pages (issue #5), under ``/<municipality>/counter/money/`` (counter/urls.py)."""

from django.urls import path

from . import money_views as views

urlpatterns = [
    path("bookings/<int:booking_id>/", views.booking, name="money_booking"),
    path("bookings/<int:booking_id>/pay/", views.pay, name="money_pay"),  # POST
    path("bookings/<int:booking_id>/change/", views.change, name="money_change"),  # POST: keeps the payment
    path("bookings/<int:booking_id>/cancel/", views.cancel, name="money_cancel"),  # POST, with the refund shown
    path("bookings/<int:booking_id>/weather/", views.weather, name="money_weather"),  # POST: rain or heat (S-WX-1)
    path("bookings/<int:booking_id>/weather/refund/", views.weather_refund, name="money_weather_refund"),  # POST
    path("bookings/<int:booking_id>/weather/transfer/", views.weather_transfer, name="money_weather_transfer"),  # POST
    # GET: the form; POST: the bookings it would cancel; POST with confirm=yes: cancel them (T-CAN-2).
    path("closure/", views.closure, name="money_closure"),
    # S-WX-1 for a whole site: GET the form, GET with its values the bookings concerned, POST marks them.
    path("weather-day/", views.weather_day, name="money_weather_day"),
]
