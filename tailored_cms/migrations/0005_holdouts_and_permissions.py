# Per-area holdouts, and the editors' permissions: preview as any visitor, see results.

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tailored_cms", "0004_consent_banner_and_why"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="tailoredarea",
            options={
                "permissions": [
                    ("preview_tailoring", "Can preview pages as any visitor"),
                    ("view_results", "Can see the results of tailoring"),
                ],
                "verbose_name": "tailored area",
                "verbose_name_plural": "tailored areas",
            },
        ),
        migrations.AddField(
            model_name="tailoredplugin",
            name="holdout_percent",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="This share of visitors sees the fallback whatever the strategy, always the same visitors, "
                "so results can compare tailoring with no tailoring. 0 (no holdout) to 50; 5 is a good start.",
                validators=[django.core.validators.MaxValueValidator(50)],
                verbose_name="holdout (%)",
            ),
        ),
    ]
