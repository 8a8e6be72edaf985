from django.urls import path

from referrals import views
from referrals.views.home import home_page

app_name = "referrals"

urlpatterns = [
    path("home/", home_page, name="home"),
    path("queue/", views.referral_queue_page, name="queue"),
    path("inbox/", views.referral_inbox_page, name="inbox"),
    path("inbox/<int:referral_id>/answer", views.referral_answer, name="answer"),
    path("<int:referral_id>/", views.referral_detail, name="detail"),
    *(
        path(
            f"<int:referral_id>/{action}",
            views.referral_case_work,
            {"action": action},
            name=action,
        )
        for action in ("close", "escalate")
    ),
    path("cases/<str:reference>/", views.case_referrals_page, name="case-referrals"),
    path("cases/<str:reference>/propose", views.referral_propose_page, name="propose"),
    *(
        path(
            f"<int:referral_id>/{decision}",
            views.referral_decide,
            {"decision": decision},
            name=decision,
        )
        for decision in ("approve", "decline", "retry")
    ),
    path(
        "callbacks/providers/<slug:provider_slug>/answers",
        views.provider_callback,
        name="provider-callback",
    ),
]
