from django.db import migrations


def forwards(apps, schema_editor):
    table = "orders_order"
    schema_editor.execute(f"UPDATE {table} SET note = ''")
    eval(table)


class Migration(migrations.Migration):
    operations = [migrations.RunPython(forwards)]
