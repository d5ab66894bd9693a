from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tailored_cms', '0006_traits'),
    ]

    operations = [
        migrations.AddField(
            model_name='preferencespanel',
            name='show_accessibility',
            field=models.BooleanField(default=True, verbose_name='motion and text size'),
        ),
        migrations.AddField(
            model_name='visitor',
            name='motion',
            field=models.CharField(blank=True, max_length=20, verbose_name='motion'),
        ),
        migrations.AddField(
            model_name='visitor',
            name='text_size',
            field=models.CharField(blank=True, max_length=20, verbose_name='text size'),
        ),
    ]
