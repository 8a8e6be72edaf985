from django.urls import path

from indicators.api import views

urlpatterns = [
    path("instruments/", views.InstrumentListApi.as_view(), name="instrument-list"),
    path(
        "instruments/<slug:slug>/versions/<int:number>/",
        views.InstrumentVersionDetailApi.as_view(),
        name="instrument-version-detail",
    ),
    path(
        "instruments/<slug:slug>/versions/<int:number>/score",
        views.InstrumentVersionScoreApi.as_view(),
        name="instrument-version-score",
    ),
]
