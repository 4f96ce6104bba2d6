# Row-level security on the schools' budgets and on the retention records of the family's
# requests (portal/db_scope.py, migrations 0006, 0009, 0015): visible only for the
# connection's schools.

from django.db import migrations

TABLES = {
    "portal_budget": "komek_school_visible(school_id)",
    "portal_retentionhold": "EXISTS (SELECT 1 FROM portal_aidrequest r WHERE r.id = request_id)",
    "portal_retentionerasure": (
        "EXISTS (SELECT 1 FROM portal_aidrequest r WHERE r.id = request_id)"
    ),
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
    dependencies = [("portal", "0017_decision_in_force_or_void")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
