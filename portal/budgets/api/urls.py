from django.urls import path

from portal.budgets.api import views

urlpatterns = [
    path(
        "budgets/<str:school_bin>/<str:academic_year>/",
        views.BudgetView.as_view(),
        name="budget-detail",
    ),
]
