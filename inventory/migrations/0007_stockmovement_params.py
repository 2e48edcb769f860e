# The ledger's reasons become msgids worded when shown, their figures in `params`. Adding a column
# with a constant default is an ALTER only: no existing movement row is rewritten (a trigger refuses
# UPDATE and DELETE on the ledger, and old rows keep their finished text).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0006_replenishment_line_labels'),
    ]

    operations = [
        migrations.AddField(
            model_name='stockmovement',
            name='params',
            field=models.JSONField(blank=True, default=dict, verbose_name='details'),
        ),
    ]
