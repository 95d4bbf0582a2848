"""Load the bundled Natural Earth admin-0 boundaries (see crises/data/README.md)."""

from django.db import migrations


def load(apps, schema_editor):
    # The loader is shared with the post_migrate receiver that reloads a flushed table.
    from crises.countries import load_countries

    load_countries(schema_editor.connection)


def unload(apps, schema_editor):
    apps.get_model("crises", "Country").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("crises", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
