from django.urls import path

from portal.rules import views

app_name = "rules"

urlpatterns = [
    path("", views.ruleset_list, name="ruleset-list"),
    path("new/", views.ruleset_create, name="ruleset-create"),
    path("diff/", views.ruleset_diff_view, name="ruleset-diff"),
    path("golden/", views.golden_list, name="golden-list"),
    path("golden/<uuid:public_id>/toggle/", views.golden_toggle, name="golden-toggle"),
    path("previews/<uuid:public_id>/", views.preview_detail, name="preview-detail"),
    path("previews/<uuid:public_id>/progress/", views.preview_progress, name="preview-progress"),
    path("previews/<uuid:public_id>/affected/", views.preview_affected, name="preview-affected"),
    path("rescores/<uuid:public_id>/progress/", views.rescore_progress, name="rescore-progress"),
    path("<uuid:public_id>/", views.ruleset_detail, name="ruleset-detail"),
    path("<uuid:public_id>/edit/", views.ruleset_edit, name="ruleset-edit"),
    path("<uuid:public_id>/document.json", views.ruleset_document, name="ruleset-document"),
    path("<uuid:public_id>/approve/", views.ruleset_approve, name="ruleset-approve"),
    path("<uuid:public_id>/publish/", views.ruleset_publish, name="ruleset-publish"),
    path("<uuid:public_id>/preview/", views.preview_start, name="ruleset-preview"),
    path("<uuid:public_id>/rescore/", views.rescore_start, name="ruleset-rescore"),
]
