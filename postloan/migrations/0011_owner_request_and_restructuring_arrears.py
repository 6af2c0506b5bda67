"""The owner's prepayment and change requests become one model (OwnerRequest); a product's
rule for the past-due interest at a restructuring, and what a restructuring capitalised."""

import django.db.models.deletion
import django.utils.timezone
import django_fsm
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('applications', '0008_loan_changes'),
        ('postloan', '0010_loan_changes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='changeterms',
            name='restructuring_arrears',
            field=models.CharField(choices=[('pay_first', 'Paid before the restructuring is applied'), ('capitalise', 'Capitalised into the new schedule')], default='pay_first', help_text='Paid first: the restructuring is applied only once the past-due contract interest and the overdue interest are paid. Capitalised: they become principal of the new schedule.', max_length=10, verbose_name='past-due interest at a restructuring'),
        ),
        migrations.AddField(
            model_name='loanchange',
            name='capitalised_interest',
            field=models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=18, verbose_name='past-due contract interest capitalised'),
        ),
        migrations.AddField(
            model_name='loanchange',
            name='capitalised_overdue_interest',
            field=models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=18, verbose_name='overdue interest capitalised'),
        ),
        migrations.AddField(
            model_name='loanchange',
            name='capitalised_principal',
            field=models.DecimalField(decimal_places=2, default=Decimal('0.00'), max_digits=18, verbose_name='past-due principal capitalised'),
        ),
        migrations.AlterField(
            model_name='repayment',
            name='source',
            field=models.CharField(choices=[('manual', 'Recorded by staff'), ('import', 'Core-banking import'), ('capitalised', 'Capitalised by a restructuring')], default='manual', max_length=12, verbose_name='source'),
        ),
        migrations.CreateModel(
            name='OwnerRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('full', 'Full prepayment (closes the loan)'), ('shorten_term', 'Partial prepayment, shorter term'), ('lower_instalment', 'Partial prepayment, lower instalment'), ('renewal', 'Renewal (续贷)'), ('renewal_without_repayment', 'Renewal without first repaying the principal (无还本续贷)'), ('extension', 'Extension (展期)'), ('restructuring', 'Restructuring (重组)'), ('top_up', 'Top-up (增贷)')], max_length=30, verbose_name='what is asked')),
                ('status', django_fsm.FSMField(choices=[('open', 'With the relationship manager'), ('filed', 'Filed by the bank'), ('declined', 'Declined'), ('withdrawn', 'Withdrawn')], default='open', max_length=10, protected=True, verbose_name='status')),
                ('value_date', models.DateField(blank=True, help_text="A prepayment's; empty for a change.", null=True, verbose_name='value date')),
                ('principal', models.DecimalField(blank=True, decimal_places=2, help_text="A partial prepayment's principal; empty otherwise.", max_digits=18, null=True, verbose_name='principal to prepay')),
                ('note', models.TextField(blank=True, verbose_name="the owner's note")),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='asked')),
                ('handled_at', models.DateTimeField(blank=True, null=True, verbose_name='handled')),
                ('answer', models.TextField(blank=True, verbose_name='answer to the owner')),
                ('asked_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='asked by')),
                ('change', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='applications.loanapplication', verbose_name='filed as the change application')),
                ('handled_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='handled by')),
                ('loan', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='owner_requests', to='postloan.loan', verbose_name='loan')),
                ('prepayment', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='owner_request', to='postloan.prepayment', verbose_name='filed as the prepayment')),
            ],
            options={
                'verbose_name': "owner's request",
                'verbose_name_plural': "owners' requests",
                'ordering': ['-created_at', '-id'],
            },
            bases=(django_fsm.ConcurrentTransitionMixin, django_fsm.FSMModelMixin, models.Model),
        ),
        migrations.AddConstraint(
            model_name='ownerrequest',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('loan',), name='postloan_one_open_owner_request'),
        ),
        migrations.AddConstraint(
            model_name='ownerrequest',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind__in', ['full', 'shorten_term', 'lower_instalment']), ('value_date__isnull', False)), models.Q(models.Q(('kind__in', ['full', 'shorten_term', 'lower_instalment']), _negated=True), ('value_date__isnull', True)), _connector='OR'), name='postloan_owner_request_value_date'),
        ),
    ]
