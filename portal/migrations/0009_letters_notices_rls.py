# Row-level security on the family's letters and notices, like the aid-request tables
# (portal/db_scope.py, migration 0006): visible only for the connection's schools.

from django.db import migrations

TABLES = {
    "portal_letter": "komek_school_visible(school_id)",
    "portal_notice": "EXISTS (SELECT 1 FROM portal_aidrequest r WHERE r.id = request_id)",
}

FORWARD = [
    f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;\n"
    f"CREATE POLICY komek_school_scope ON {t} USING ({cond}) WITH CHECK ({cond});"
    for t, cond in TABLES.items()
]
BACKWARD = [
    f"DROP POLICY IF EXISTS komek_school_scope ON {t};\nALTER TABLE {t} DISABLE ROW LEVEL SECURITY;"
    for t in TABLES
]


class Migration(migrations.Migration):
    dependencies = [("portal", "0008_family_letters_notices")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
