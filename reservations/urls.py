from django.urls import path

app_name = "reservations"

urlpatterns: list = []
