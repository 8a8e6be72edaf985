from django.urls import path

from demo import views

app_name = "demo"

urlpatterns = [
    path("mail/", views.mailbox, name="mailbox"),
    path("webhooks/", views.webhooks, name="webhooks"),
]
