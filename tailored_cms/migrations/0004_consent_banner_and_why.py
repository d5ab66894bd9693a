# The consent banner plugin's model (the "Why am I seeing this?" plugin needs no table).

import django.db.models.deletion
from django.db import migrations, models

import tailored_cms.widgets.models


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0045_pageurl_site_unique_path"),
        ("tailored_cms", "0003_segments"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConsentBanner",
            fields=[
                (
                    "cmsplugin_ptr",
                    models.OneToOneField(
                        auto_created=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        parent_link=True,
                        primary_key=True,
                        related_name="%(app_label)s_%(class)s",
                        serialize=False,
                        to="cms.cmsplugin",
                    ),
                ),
                (
                    "message",
                    models.TextField(
                        default="May we note which pages and topics you read here? We use it only to show you more "
                        "of what you like. Your choices of topics, theme and layout work either way.",
                        verbose_name="message",
                    ),
                ),
                (
                    "privacy_policy_url",
                    models.CharField(
                        blank=True,
                        help_text="A path on this site (/privacy/) or a full address. Leave empty to show no link.",
                        max_length=300,
                        validators=[tailored_cms.widgets.models.validate_link],
                        verbose_name="privacy policy link",
                    ),
                ),
            ],
            bases=("cms.cmsplugin",),
        ),
    ]
