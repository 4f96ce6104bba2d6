from django.urls import path

from portal.accounts import views

app_name = "accounts"

urlpatterns = [
    path("tokens/", views.api_tokens, name="api-tokens"),
    path("tokens/<uuid:public_id>/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path("totp/replace/", views.totp_replace, name="totp-replace"),
]
