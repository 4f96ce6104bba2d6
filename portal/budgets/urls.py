from django.urls import path

from portal.budgets import views

app_name = "budgets"

urlpatterns = [
    path("", views.budget_list, name="budget-list"),
    path("set/", views.budget_set, name="budget-set"),
    path("import/", views.budget_import, name="budget-import"),
    path("export.csv", views.budget_export_csv, name="budget-export-csv"),
]
