from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tailored_cms', '0003_translated_names'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='variantstats',
            name='tailored_variantstats_unique',
        ),
        migrations.AddField(
            model_name='variantstats',
            name='language',
            field=models.CharField(blank=True, default='', max_length=15, verbose_name='language'),
        ),
        migrations.AddConstraint(
            model_name='variantstats',
            constraint=models.UniqueConstraint(fields=('area', 'day', 'variant', 'path', 'language'), name='tailored_variantstats_unique'),
        ),
    ]
