
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tailored_cms', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='event',
            name='path',
            field=models.TextField(blank=True, default='', verbose_name='path'),
        ),
    ]
