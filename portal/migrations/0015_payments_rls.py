# Row-level security on payments, like the decisions they belong to (portal/db_scope.py,
# migrations 0006 and 0009): a payment is visible only when its decision is.

from django.db import migrations

TABLES = {
    "portal_payment": "EXISTS (SELECT 1 FROM portal_decision d WHERE d.id = decision_id)",
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
    dependencies = [("portal", "0014_decision_second_signature")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
