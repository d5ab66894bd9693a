# The schema of tailored_cms: visitors, tracking, segments, the CMS plugins and page topics, results.

import uuid

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import tailored_cms.plugin_settings.models
import tailored_cms.tracking.goals
import tailored_cms.widgets.models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        # django CMS's Page (page topics, events' pages) and CMSPlugin (the plugins' parent and proxy base, the
        # settings' key) exist from its first migration on, with the same primary key ever since: nothing later is
        # needed. "__first__" rather than a migration's name, so that a project (or django CMS's own test suite)
        # that turns django CMS's migrations off (MIGRATION_MODULES) can still migrate: Django then drops the
        # dependency and creates django CMS's tables before any migration runs.
        ("cms", "__first__"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Visitors: who they are, what they chose (visitors/)
        migrations.CreateModel(
            name="Topic",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("slug", models.SlugField(unique=True, verbose_name="slug")),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                ("description", models.TextField(blank=True, verbose_name="description")),
                (
                    "position",
                    models.PositiveIntegerField(default=0, help_text="Lower comes first.", verbose_name="position"),
                ),
            ],
            options={
                "verbose_name": "topic",
                "verbose_name_plural": "topics",
                "ordering": ("position", "name"),
            },
        ),
        migrations.CreateModel(
            name="Visitor",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("theme", models.CharField(blank=True, max_length=50, verbose_name="theme")),
                ("layout", models.CharField(blank=True, max_length=50, verbose_name="layout")),
                ("topics", models.JSONField(blank=True, default=list, verbose_name="topics followed")),
                ("widgets", models.JSONField(blank=True, default=dict, verbose_name="widget arrangement")),
                ("choices_changed", models.JSONField(blank=True, default=dict, editable=False)),
                ("tracking_consent", models.BooleanField(blank=True, null=True, verbose_name="tracking consent")),
                ("first_seen", models.DateTimeField(blank=True, editable=False, null=True, verbose_name="first seen")),
                (
                    "last_seen",
                    models.DateTimeField(
                        blank=True, db_index=True, editable=False, null=True, verbose_name="last seen"
                    ),
                ),
                (
                    "visits",
                    models.PositiveIntegerField(
                        default=0,
                        editable=False,
                        help_text="A new visit starts after VISIT_GAP_MINUTES of inactivity.",
                        verbose_name="visits",
                    ),
                ),
                ("device", models.CharField(blank=True, editable=False, max_length=10, verbose_name="last device")),
                (
                    "referrer_domain",
                    models.CharField(blank=True, editable=False, max_length=255, verbose_name="last referrer domain"),
                ),
                (
                    "utm_source",
                    models.CharField(blank=True, editable=False, max_length=100, verbose_name="last UTM source"),
                ),
                (
                    "utm_medium",
                    models.CharField(blank=True, editable=False, max_length=100, verbose_name="last UTM medium"),
                ),
                (
                    "utm_campaign",
                    models.CharField(blank=True, editable=False, max_length=100, verbose_name="last UTM campaign"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "user",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tailored_visitor",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "visitor",
                "verbose_name_plural": "visitors",
            },
        ),
        migrations.CreateModel(
            name="StaleSnapshot",
            fields=[
                ("visitor_id", models.CharField(max_length=36, primary_key=True, serialize=False)),
                ("marked_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "stale snapshot",
                "verbose_name_plural": "stale snapshots",
            },
        ),
        # Tracking: events and their daily counts (tracking/)
        migrations.CreateModel(
            name="Event",
            fields=[
                ("id", models.UUIDField(editable=False, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=64, verbose_name="name")),
                ("ts", models.DateTimeField(verbose_name="time")),
                ("props", models.JSONField(blank=True, default=dict, verbose_name="properties")),
                (
                    "page",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="cms.page",
                        verbose_name="page",
                    ),
                ),
                (
                    "visitor",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="tailored_cms.visitor",
                        verbose_name="visitor",
                    ),
                ),
            ],
            options={
                "verbose_name": "event",
                "verbose_name_plural": "events",
                "indexes": [
                    models.Index(fields=["ts"], name="tailored_event_ts"),
                    models.Index(fields=["visitor", "ts"], name="tailored_event_visitor_ts"),
                ],
            },
        ),
        migrations.CreateModel(
            name="EventCounts",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=64, verbose_name="name")),
                ("day", models.DateField(db_index=True, verbose_name="day")),
                ("count", models.PositiveIntegerField(default=0, verbose_name="events")),
                (
                    "visitor",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="event_counts",
                        to="tailored_cms.visitor",
                        verbose_name="visitor",
                    ),
                ),
            ],
            options={
                "verbose_name": "event counts",
                "verbose_name_plural": "event counts",
                "constraints": [
                    models.UniqueConstraint(fields=("visitor", "name", "day"), name="tailored_eventcounts_unique")
                ],
            },
        ),
        migrations.CreateModel(
            name="TopicViews",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("topic", models.SlugField(db_index=False, verbose_name="topic")),
                ("day", models.DateField(db_index=True, verbose_name="day")),
                ("count", models.PositiveIntegerField(default=0, verbose_name="views")),
                (
                    "visitor",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="topic_views",
                        to="tailored_cms.visitor",
                        verbose_name="visitor",
                    ),
                ),
            ],
            options={
                "verbose_name": "topic views",
                "verbose_name_plural": "topic views",
                "constraints": [
                    models.UniqueConstraint(fields=("visitor", "topic", "day"), name="tailored_topicviews_unique")
                ],
            },
        ),
        migrations.CreateModel(
            name="SpooledEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("data", models.TextField(verbose_name="event")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="spooled")),
            ],
            options={
                "verbose_name": "spooled event",
                "verbose_name_plural": "spooled events",
            },
        ),
        # Segments and who is in them (rules/)
        migrations.CreateModel(
            name="Segment",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("slug", models.SlugField(unique=True, verbose_name="slug")),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                ("description", models.TextField(blank=True, verbose_name="description")),
                (
                    "enabled",
                    models.BooleanField(
                        default=True,
                        help_text="Switched off, the segment disappears from every visitor at once.",
                        verbose_name="enabled",
                    ),
                ),
                (
                    "rules",
                    models.JSONField(
                        default=dict,
                        help_text='A rule tree: {"all": [...]}, {"any": [...]}, {"not": {...}}; leaves {"rule": NAME, ...}.',
                        verbose_name="rules",
                    ),
                ),
                (
                    "size",
                    models.PositiveIntegerField(
                        blank=True,
                        editable=False,
                        help_text="Visitors in the segment at the last recompute, including those who are only on some requests.",
                        null=True,
                        verbose_name="members",
                    ),
                ),
                (
                    "computed_at",
                    models.DateTimeField(blank=True, editable=False, null=True, verbose_name="last computed"),
                ),
                (
                    "recompute_started_at",
                    models.DateTimeField(blank=True, editable=False, null=True, verbose_name="recompute started"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
            ],
            options={
                "verbose_name": "segment",
                "verbose_name_plural": "segments",
                "ordering": ("name",),
            },
        ),
        migrations.CreateModel(
            name="Membership",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("joined_at", models.DateTimeField(verbose_name="joined")),
                ("left_at", models.DateTimeField(blank=True, null=True, verbose_name="left")),
                ("condition", models.JSONField(blank=True, null=True, verbose_name="only on requests where")),
                (
                    "segment",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to="tailored_cms.segment",
                        verbose_name="segment",
                    ),
                ),
                (
                    "visitor",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to="tailored_cms.visitor",
                        verbose_name="visitor",
                    ),
                ),
            ],
            options={
                "verbose_name": "membership",
                "verbose_name_plural": "memberships",
                "indexes": [
                    models.Index(
                        condition=models.Q(("left_at__isnull", True)),
                        fields=["segment", "visitor"],
                        name="tailored_membership_members",
                    ),
                    models.Index(fields=["visitor", "joined_at"], name="tailored_membership_history"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("left_at__isnull", True)),
                        fields=("visitor", "segment"),
                        name="tailored_membership_current",
                    )
                ],
            },
        ),
        # The CMS plugins and page topics. Areas, variants, boards and widgets are proxies of django CMS's CMSPlugin;
        # what an editor set on each is a PluginSettings row, keyed by the plugin's id.
        migrations.CreateModel(
            name="PluginSettings",
            fields=[
                (
                    "plugin",
                    models.OneToOneField(
                        db_column="cmsplugin_ptr_id",
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="tailored_settings",
                        serialize=False,
                        to="cms.cmsplugin",
                    ),
                ),
                ("label", models.CharField(blank=True, max_length=100, verbose_name="label")),
                (
                    "key",
                    models.SlugField(
                        default=tailored_cms.plugin_settings.models.new_key, editable=False, max_length=40, verbose_name="key"
                    ),
                ),
                (
                    "strategy",
                    models.CharField(
                        choices=[
                            ("static", "Static: everyone sees the fallback"),
                            ("customization", "Customization: the visitor's own choices"),
                            ("personalization", "Personalization: the visitor's segments"),
                            ("hybrid", "Hybrid: the visitor's choices first, segments fill the rest"),
                            ("optimize", "Optimize: test which variant works best, sending more visitors to it"),
                        ],
                        default="customization",
                        max_length=20,
                        verbose_name="strategy",
                    ),
                ),
                (
                    "max_items",
                    models.PositiveSmallIntegerField(
                        default=1,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(20),
                        ],
                        verbose_name="variants shown at most",
                    ),
                ),
                (
                    "holdout_percent",
                    models.PositiveSmallIntegerField(
                        default=0,
                        help_text="This share of visitors sees the fallback whatever the strategy, always the same visitors, so results can compare tailoring with no tailoring. 0 (no holdout) to 50; 5 is a good start.",
                        validators=[django.core.validators.MaxValueValidator(50)],
                        verbose_name="holdout (%)",
                    ),
                ),
                (
                    "goal",
                    models.CharField(
                        blank=True,
                        help_text="The event that counts as a conversion in this area's results, e.g. signup (sent by the page with tailored.track or by the site with api.record_event). Empty: clicks only.",
                        max_length=64,
                        validators=[tailored_cms.tracking.goals.validate_goal],
                        verbose_name="goal",
                    ),
                ),
                ("topics", models.JSONField(blank=True, default=list, verbose_name="topics")),
                ("themes", models.JSONField(blank=True, default=list, verbose_name="themes")),
                ("layouts", models.JSONField(blank=True, default=list, verbose_name="layouts")),
                ("segments", models.JSONField(blank=True, default=list, verbose_name="segments")),
                (
                    "priority",
                    models.SmallIntegerField(default=0, help_text="Higher wins ties.", verbose_name="priority"),
                ),
                (
                    "fallback",
                    models.BooleanField(
                        default=False,
                        help_text="Shown when no other variant matches the visitor.",
                        verbose_name="fallback",
                    ),
                ),
                ("hideable", models.BooleanField(default=True, verbose_name="visitors may hide it")),
            ],
            options={
                "verbose_name": "settings of a tailored plugin",
                "verbose_name_plural": "settings of tailored plugins",
                "db_table": "tailored_cms_tailoredplugin",
            },
        ),
        migrations.CreateModel(
            name="TailoredPlugin",
            fields=[],
            options={
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("cms.cmsplugin",),
        ),
        migrations.CreateModel(
            name="TailoredArea",
            fields=[],
            options={
                "verbose_name": "tailored area",
                "verbose_name_plural": "tailored areas",
                "permissions": [
                    ("preview_tailoring", "Can preview pages as any visitor"),
                    ("view_results", "Can see the results of tailoring"),
                ],
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("tailored_cms.tailoredplugin",),
        ),
        migrations.CreateModel(
            name="Variant",
            fields=[],
            options={
                "verbose_name": "variant",
                "verbose_name_plural": "variants",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("tailored_cms.tailoredplugin",),
        ),
        migrations.CreateModel(
            name="WidgetBoard",
            fields=[],
            options={
                "verbose_name": "widget board",
                "verbose_name_plural": "widget boards",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("tailored_cms.tailoredplugin",),
        ),
        migrations.CreateModel(
            name="Widget",
            fields=[],
            options={
                "verbose_name": "widget",
                "verbose_name_plural": "widgets",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("tailored_cms.tailoredplugin",),
        ),
        migrations.CreateModel(
            name="TopicFeed",
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
                ("title", models.CharField(blank=True, max_length=100, verbose_name="title")),
                (
                    "limit",
                    models.PositiveSmallIntegerField(
                        default=6,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(50),
                        ],
                        verbose_name="pages shown at most",
                    ),
                ),
                ("followed_only", models.BooleanField(default=False, verbose_name="only the visitor's topics")),
            ],
            bases=("cms.cmsplugin",),
        ),
        migrations.CreateModel(
            name="PreferencesPanel",
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
                ("title", models.CharField(default="Customize this site", max_length=100, verbose_name="title")),
                ("show_topics", models.BooleanField(default=True, verbose_name="topics")),
                ("show_theme", models.BooleanField(default=True, verbose_name="theme")),
                ("show_layout", models.BooleanField(default=True, verbose_name="layout")),
            ],
            bases=("cms.cmsplugin",),
        ),
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
                        default="May we note which pages and topics you read here? We use it only to show you more of what you like. Your choices of topics, theme and layout work either way.",
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
        migrations.CreateModel(
            name="PageTopics",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "extended_object",
                    models.OneToOneField(editable=False, on_delete=django.db.models.deletion.CASCADE, to="cms.page"),
                ),
                (
                    "topics",
                    models.ManyToManyField(
                        blank=True, related_name="page_topics", to="tailored_cms.topic", verbose_name="topics"
                    ),
                ),
            ],
            options={
                "verbose_name": "page topics",
                "verbose_name_plural": "page topics",
            },
        ),
        # Results: daily counts per area, variant and path; segment sizes per day (results/)
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
