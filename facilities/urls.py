from django.urls import path

from . import search_views, views

app_name = "facilities"

urlpatterns = [
    path("", views.home, name="home"),
    path("<slug:municipality>/", views.municipality_home, name="municipality"),
    path("<slug:municipality>/facilities/<slug:facility_code>/", views.facility_detail, name="facility"),
    # issue #21 item 4: the facility's board, all its units × a week or × the slots of one day
    path("<slug:municipality>/facilities/<slug:facility_code>/board/", views.facility_board, name="board"),
    path(
        "<slug:municipality>/facilities/<slug:facility_code>/board/week/<str:day>/",
        views.facility_board,
        name="board_week",
    ),
    path(
        "<slug:municipality>/facilities/<slug:facility_code>/board/day/<str:day>/",
        views.facility_board,
        {"view": "day"},
        name="board_day",
    ),
    path("<slug:municipality>/search/", search_views.search_page, name="search"),  # issue #8: find a slot (GET form)
    path(
        "<slug:municipality>/facilities/<slug:facility_code>/favourite/", search_views.favourite, name="favourite"
    ),  # POST
    path("<slug:municipality>/units/<int:unit_id>/", views.unit_week, name="unit"),
    path("<slug:municipality>/units/<int:unit_id>/week/<str:day>/", views.unit_week, name="unit_week"),
    path("<slug:municipality>/units/<int:unit_id>/month/", views.unit_month, name="unit_month_current"),
    path("<slug:municipality>/units/<int:unit_id>/month/<str:month>/", views.unit_month, name="unit_month"),
]
