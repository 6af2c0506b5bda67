"""The old request models go once their rows are in OwnerRequest (0012)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("postloan", "0012_owner_requests_from_both_tables"),
    ]

    operations = [
        migrations.DeleteModel(
            name='ChangeRequest',
        ),
        migrations.DeleteModel(
            name='PrepaymentRequest',
        ),
    ]
