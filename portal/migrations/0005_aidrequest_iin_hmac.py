# Keyed hash of the ИИН (issue 9, item 7): the unique key no longer holds an ИИН.

from django.conf import settings
from django.db import migrations, models

from schools.iinkey import iin_digest


def fill_iin_digests(apps, schema_editor):
    """Existing rows: the keyed hash of both ИИН, with the deployment's IIN_HMAC_KEY."""
    AidRequest = apps.get_model("portal", "AidRequest")
    batch = []
    for row in AidRequest.objects.only("id", "student_iin", "guardian_iin").iterator(2000):
        row.student_iin_hmac = iin_digest(row.student_iin)
        row.guardian_iin_hmac = iin_digest(row.guardian_iin)
        batch.append(row)
        if len(batch) >= 2000:
            AidRequest.objects.bulk_update(batch, ["student_iin_hmac", "guardian_iin_hmac"])
            batch = []
    if batch:
        AidRequest.objects.bulk_update(batch, ["student_iin_hmac", "guardian_iin_hmac"])


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0004_rescore_batch"),
        ("schools", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="aidrequest",
            name="aidrequest_one_open_per_student_kind_year",
        ),
        migrations.AddField(
            model_name="aidrequest",
            name="guardian_iin_hmac",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="aidrequest",
            name="student_iin_hmac",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=64),
        ),
        migrations.RunPython(fill_iin_digests, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="aidrequest",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "withdrawn"), _negated=True),
                fields=("school", "student_iin_hmac", "aid_kind", "academic_year"),
                name="aidrequest_one_open_per_student_kind_year",
            ),
        ),
    ]
