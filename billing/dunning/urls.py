from __future__ import annotations

from django.urls import path

from billing.dunning import views

urlpatterns = [
    path("reminders/", views.reminder_list_view, name="reminder_list"),
    path("reminders/<int:pk>/", views.reminder_detail, name="reminder_detail"),
    path("dunning-levels/", views.dunning_level_list, name="dunning_levels"),
    path("dunning-levels/<int:pk>/", views.dunning_level_edit, name="dunning_level_edit"),
    path("credit-holds/<int:pk>/release/", views.credit_hold_release, name="credit_hold_release"),
]
