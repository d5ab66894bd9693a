# Results: the goal of tailored areas, daily counts per variant and path, segment sizes per day.

import django.db.models.deletion
import tailored_cms.widgets.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tailored_cms", "0005_holdouts_and_permissions"),
    ]

    operations = [
        migrations.AddField(
            model_name="tailoredplugin",
            name="goal",
            field=models.CharField(
                blank=True,
                help_text="The event that counts as a conversion in this area's results, e.g. signup (sent by the page with tailored.track or by the site with api.record_event). Empty: clicks only.",
                max_length=64,
                validators=[tailored_cms.widgets.models.validate_goal],
                verbose_name="goal",
            ),
        ),
        migrations.CreateModel(
            name="VariantStats",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("area", models.SlugField(db_index=False, max_length=40, verbose_name="area")),
                ("variant", models.SlugField(blank=True, max_length=40, verbose_name="variant")),
                (
                    "path",
                    models.CharField(
                        choices=[
                            ("customized", "customized"),
                            ("personalized", "personalized"),
                            ("optimized", "optimized"),
                            ("fallback", "fallback"),
                            ("holdout", "holdout"),
                        ],
                        max_length=16,
                        verbose_name="path",
                    ),
                ),
                ("day", models.DateField(verbose_name="day")),
                ("impressions", models.PositiveIntegerField(default=0, verbose_name="impressions")),
                ("clicks", models.PositiveIntegerField(default=0, verbose_name="clicks")),
                ("conversions", models.PositiveIntegerField(default=0, verbose_name="conversions")),
            ],
            options={
                "verbose_name": "daily result",
                "verbose_name_plural": "results",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("area", "day", "variant", "path"), name="tailored_variantstats_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="SegmentSize",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(verbose_name="day")),
                ("size", models.PositiveIntegerField(verbose_name="members")),
                (
                    "segment",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sizes",
                        to="tailored_cms.segment",
                        verbose_name="segment",
                    ),
                ),
            ],
            options={
                "verbose_name": "segment size",
                "verbose_name_plural": "segment sizes",
                "constraints": [models.UniqueConstraint(fields=("segment", "day"), name="tailored_segmentsize_unique")],
            },
        ),
    ]
