from django.urls import path

from referrals.api import views

urlpatterns = [
    path("referrals/queue/", views.ReferralQueueApi.as_view(), name="api-referral-queue"),
    path(
        "referrals/<int:referral_id>/",
        views.ReferralDetailApi.as_view(),
        name="api-referral-detail",
    ),
    path(
        "referrals/<int:referral_id>/approve",
        views.ReferralApproveApi.as_view(),
        name="api-referral-approve",
    ),
    path(
        "referrals/<int:referral_id>/decline",
        views.ReferralDeclineApi.as_view(),
        name="api-referral-decline",
    ),
    path(
        "referrals/<int:referral_id>/answers",
        views.ReferralAnswerApi.as_view(),
        name="api-referral-answer",
    ),
    path(
        "referrals/<int:referral_id>/close",
        views.ReferralCloseApi.as_view(),
        name="api-referral-close",
    ),
    path(
        "referrals/<int:referral_id>/escalate",
        views.ReferralEscalateApi.as_view(),
        name="api-referral-escalate",
    ),
    path(
        "cases/<str:reference>/referrals",
        views.ReferralProposeApi.as_view(),
        name="api-referral-propose",
    ),
    path("providers/", views.ProviderListApi.as_view(), name="api-provider-list"),
]
