from django.db import migrations


def add_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name="anchor-audit-chain",
        defaults={"func": "consular.tasks.anchor_audit_chain", "schedule_type": "H", "repeats": -1},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="anchor-audit-chain").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("consular", "0003_auditentry"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
