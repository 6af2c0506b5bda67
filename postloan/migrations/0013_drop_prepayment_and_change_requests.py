"""The old request models go once their rows are in OwnerRequest (0012)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("postloan", "0012_owner_requests_from_both_tables"),
    ]

    operations = [
        migrations.RemoveField(
            model_name='prepaymentrequest',
            name='asked_by',
        ),
        migrations.RemoveField(
            model_name='prepaymentrequest',
            name='decided_by',
        ),
        migrations.RemoveField(
            model_name='prepaymentrequest',
            name='loan',
        ),
        migrations.RemoveField(
            model_name='prepaymentrequest',
            name='prepayment',
        ),
        migrations.DeleteModel(
            name='ChangeRequest',
        ),
        migrations.DeleteModel(
            name='PrepaymentRequest',
        ),
    ]
