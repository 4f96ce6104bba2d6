from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from portal.home import views

urlpatterns = [
    path("", views.home, name="home-root"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("account/", include("portal.accounts.urls")),
    # /admin/login/ answers with allauth's sign-in (portal.accounts.mfa.secure_admin_site).
    path("admin/", admin.site.urls),
    path("", include("portal.home.urls")),
    path("schools/", include("schools.urls")),
    path("", include("portal.requests.urls")),
    path("", include("portal.audit.urls")),
    path("api/v1/", include("portal.api.urls")),
    path("rules/", include("portal.rules.urls")),
    path("stats/", include("portal.stats.urls")),
    path("administration/", include("portal.administration.urls")),
    path("budgets/", include("portal.budgets.urls")),
    path("payments/", include("portal.payments.urls")),
    path("", include("portal.letters.urls")),
    path("", include("portal.notices.urls")),
    path("", include("portal.privacy.urls")),
    path("", include("portal.appeals.urls")),
]

# A development tool, mounted only when enabled explicitly (and then installed too).
if settings.FAMILY_CARD_SIM_ENABLED:
    urlpatterns.append(path("familycard-sim/", include("scoring.simulator.urls")))
if settings.SMS_SIM_ENABLED:
    urlpatterns.append(path("sms-sim/", include("portal.notices.simulator.urls")))

# Error pages in the reader's language (portal/errors.py); the 500 page needs no database.
handler400 = "portal.errors.bad_request"
handler403 = "portal.errors.permission_denied"
handler404 = "portal.errors.page_not_found"
handler500 = "portal.errors.server_error"
