"""The assessment's insert-only trigger gets one narrow exception: the retention job
(``scoring.services.assessment_cards_erase_for_retention``) may replace ``card`` with
``{"erased": true}`` — only when the transaction-local setting
``komek.assessment_card_erasure`` is ``on`` and no other column changes. DELETE stays refused."""

from django.db import migrations

GUARD = r"""
CREATE OR REPLACE FUNCTION scoring_assessment_insert_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND coalesce(current_setting('komek.assessment_card_erasure', true), '') = 'on'
       AND NEW.card = '{"erased": true}'::jsonb
       AND (to_jsonb(NEW) - 'card') = (to_jsonb(OLD) - 'card') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'assessments are insert-only (% refused); re-scoring creates a new row', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
"""

GUARD_REVERSE = r"""
CREATE OR REPLACE FUNCTION scoring_assessment_insert_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'assessments are insert-only (% refused); re-scoring creates a new row', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("scoring", "0007_impactpreview_moved_to_portal")]

    operations = [migrations.RunSQL(GUARD, GUARD_REVERSE)]
