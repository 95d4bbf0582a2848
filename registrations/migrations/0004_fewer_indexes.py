"""Drop the indexes nothing reads; each one was paid on every insert.

- The LIKE-only (varchar_pattern_ops) twins Django builds for CharFields with
  unique=True or db_index=True: ref, passport_bidx and email_bidx are only ever
  compared with =.
- Trip.traveller_id on its own: the (traveller_id, start_date) index serves it.
- Stay.traveller_id twice: the named stay_traveller index stays.

Only drops and renames: no index is rebuilt, so this is quick on a live register.
"""

from django.db import migrations, models

import registrations.models

TRAVELLER = "registrations_traveller"

DROPPED = {
    # name: definition, to put it back when migrating backwards
    "registrations_traveller_ref_0aa9d6a6_like": f"{TRAVELLER} (ref varchar_pattern_ops)",
    "registrations_traveller_passport_bidx_5633f673_like": f"{TRAVELLER} (passport_bidx varchar_pattern_ops)",
    "registrations_traveller_email_bidx_ebb3ea68_like": f"{TRAVELLER} (email_bidx varchar_pattern_ops)",
    "registrations_trip_traveller_id_8416b9cf": "registrations_trip (traveller_id)",
    "registrations_stay_traveller_id_32ee7fc2": "registrations_stay (traveller_id)",
}
RENAMED = {
    "registrations_traveller_passport_bidx_5633f673": "traveller_passport_bidx",
    "registrations_traveller_email_bidx_ebb3ea68": "traveller_email_bidx",
}


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0003_remove_stay_stay_point_gist_and_more"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                *(
                    migrations.RunSQL(f'DROP INDEX IF EXISTS "{name}"', f'CREATE INDEX "{name}" ON {definition}')
                    for name, definition in DROPPED.items()
                ),
                *(
                    migrations.RunSQL(f'ALTER INDEX "{old}" RENAME TO "{new}"', f'ALTER INDEX "{new}" RENAME TO "{old}"')
                    for old, new in RENAMED.items()
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="traveller",
                    name="ref",
                    field=models.CharField(
                        default=registrations.models.new_reference, editable=False, max_length=12
                    ),
                ),
                migrations.AlterField(
                    model_name="traveller", name="passport_bidx", field=models.CharField(max_length=64, null=True)
                ),
                migrations.AlterField(
                    model_name="traveller", name="email_bidx", field=models.CharField(max_length=64, null=True)
                ),
                migrations.AddConstraint(
                    model_name="traveller",
                    constraint=models.UniqueConstraint(fields=("ref",), name="registrations_traveller_ref_key"),
                ),
                migrations.AddIndex(
                    model_name="traveller",
                    index=models.Index(fields=["passport_bidx"], name="traveller_passport_bidx"),
                ),
                migrations.AddIndex(
                    model_name="traveller",
                    index=models.Index(fields=["email_bidx"], name="traveller_email_bidx"),
                ),
                migrations.AlterField(
                    model_name="trip",
                    name="traveller",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="trips",
                        to="registrations.traveller",
                    ),
                ),
                migrations.AlterField(
                    model_name="stay",
                    name="traveller",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=models.deletion.CASCADE,
                        related_name="stays",
                        to="registrations.traveller",
                    ),
                ),
            ],
        ),
    ]
