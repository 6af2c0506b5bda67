# The two indexes the visits' figures scan, built again after 0010's backfill: the covering one
# with the case's relationship manager, the narrow one (visit_left_by_actor) unchanged.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0010_visit_relationship_manager'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='stagevisit',
            index=models.Index(condition=models.Q(('left_at__isnull', False), ('stage__in', ['draft', 'submitted', 'investigation', 'in_approval', 'info_requested', 'approved', 'contract_signed'])), fields=['left_at'], include=('stage', 'business_bucket', 'calendar_bucket', 'business_seconds', 'calendar_seconds', 'is_rework', 'previous_left_at', 'previous_rework_left_at', 'application', 'actor', 'branch', 'product', 'route', 'relationship_manager'), name='visit_left_cover'),
        ),
        migrations.AddIndex(
            model_name='stagevisit',
            index=models.Index(condition=models.Q(('left_at__isnull', False), ('stage__in', ['draft', 'submitted', 'investigation', 'in_approval', 'info_requested', 'approved', 'contract_signed'])), fields=['left_at'], include=('stage', 'actor', 'is_rework', 'business_seconds', 'application_previous_left_at', 'application_previous_rework_left_at', 'branch', 'product', 'route'), name='visit_left_by_actor'),
        ),
    ]
