from django.urls import path

from . import views

app_name = "lottery"

urlpatterns = [
    # GET: what the rules say about applying for this slot; POST: apply (K-LOT-1, S-LOT-1).
    path("<slug:municipality>/lottery/apply/<int:unit_id>/<str:day>/<str:span>/", views.apply, name="apply"),
    path("<slug:municipality>/my/lottery/", views.my_applications, name="mine"),
    # POST only: withdraw an application; confirm or give up a win (S-LOT-5).
    path("<slug:municipality>/my/lottery/<int:application_id>/<str:action>/", views.act, name="act"),
    # The published draw: commit, seed, results (K-LOT-3, S-LOT-4), and its JSON for scripts/verify_draw.py.
    path("<slug:municipality>/lottery/<str:month>/", views.draw_page, name="draw"),
    path("<slug:municipality>/lottery/<str:month>/draw.json", views.draw_json, name="draw_json"),
]
