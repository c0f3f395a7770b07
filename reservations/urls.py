from django.urls import path

from . import alert_views, feed_views, views

app_name = "reservations"

urlpatterns = [
    # Confirm page: GET shows what the rules say (Tamba: ?until=HHMM picks the end of a run), POST books.
    path("<slug:municipality>/book/<int:unit_id>/<str:day>/<str:span>/", views.confirm, name="confirm"),
    path("<slug:municipality>/my/bookings/", views.my_bookings, name="my_bookings"),
    # GET asks "cancel this booking?", POST cancels.
    path("<slug:municipality>/my/bookings/<int:booking_id>/cancel/", views.cancel, name="cancel"),
    # Calendar feeds (issue #8 item 3): the page, issue/revoke (POST), the feed by its secret key, one booking's file.
    path("<slug:municipality>/my/calendar/", feed_views.calendar_page, name="calendar_page"),
    path("<slug:municipality>/my/calendar/issue/", feed_views.issue, name="calendar_issue"),
    path("<slug:municipality>/my/calendar/revoke/", feed_views.revoke, name="calendar_revoke"),
    path("<slug:municipality>/calendar/<str:key>.ics", feed_views.feed, name="calendar_feed"),
    path("<slug:municipality>/my/bookings/<int:booking_id>/calendar.ics", feed_views.booking_file, name="booking_ics"),
    # Cancellation alerts: my alerts, a pattern (GET form, POST), watch a taken slot (POST), stop (POST).
    path("<slug:municipality>/alerts/", alert_views.alert_list, name="alerts"),
    path("<slug:municipality>/alerts/new/", alert_views.new_pattern, name="alerts_new"),
    path(
        "<slug:municipality>/alerts/watch/<int:unit_id>/<str:day>/<str:span>/",
        alert_views.watch_slot,
        name="alert_watch",
    ),
    path("<slug:municipality>/alerts/<int:watch_id>/stop/", alert_views.stop, name="alert_stop"),
]
