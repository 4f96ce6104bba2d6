from django.urls import path

from portal.payments import views

app_name = "payments"

urlpatterns = [
    path("", views.payment_list, name="payment-list"),
    path("register.csv", views.payment_register_csv, name="payment-register-csv"),
]
