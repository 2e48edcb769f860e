from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_reviewfinding_reviewsettings")]

    operations = [
        migrations.RenameField("orderevent", "from_status", "from_state"),
        migrations.RenameField("orderevent", "to_status", "to_state"),
    ]
