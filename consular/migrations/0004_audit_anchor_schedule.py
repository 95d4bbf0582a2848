"""Kept for the migration history: the schedule row it used to create now comes from
config/schedules.py, written after every migrate."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("consular", "0003_auditentry"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
