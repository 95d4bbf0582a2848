"""The erasure ledger moves from the registrations app to the privacy app, rows and all.

The table is taken over as it is (state only), then renamed to the new owner's name.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("registrations", "0005_erasure_time_set_by_the_ledger"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Erasure",
                    fields=[
                        ("id", models.BigAutoField(primary_key=True, serialize=False)),
                        ("traveller_id", models.UUIDField(null=True)),
                        ("user_id", models.UUIDField(null=True)),
                        ("data_key_ids", models.JSONField(default=list)),
                        ("reason", models.CharField(max_length=16)),
                        ("erased_at", models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={"db_table": "registrations_erasure"},
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="erasure", table=None),
    ]
