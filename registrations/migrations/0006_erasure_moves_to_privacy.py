"""The erasure ledger now belongs to the privacy app (privacy/migrations/0001 takes over its table)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0005_erasure_time_set_by_the_ledger"),
        ("privacy", "0001_erasure_from_registrations"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="Erasure")]),
    ]
