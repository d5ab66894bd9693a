"""Topics' and segments' names and descriptions move to translation tables (django-parler): each existing one
becomes the translation in the site's default language (LANGUAGE_CODE). Back: the default language's (or else
any) translation goes back into the columns.

The translations' ``master`` is a plain foreign key until the old columns are gone (parler's own field refuses a
model that still has a ``name`` field), then parler's, with the models' parler base class: in the state only, the
tables are the same."""

import django.db.models.deletion
import parler.fields
import parler.models
from django.conf import settings
from django.db import migrations, models

TRANSLATED = (("topic", "topictranslation"), ("segment", "segmenttranslation"))


class TranslatableBase(migrations.operations.base.Operation):
    """The model's state gets parler's base class, which its translations' ``master`` field asks for."""

    reversible = True

    def __init__(self, name):
        self.name = name

    def state_forwards(self, app_label, state):
        state.models[app_label, self.name].bases = (parler.models.TranslatableModelMixin, models.Model)
        state.reload_model(app_label, self.name, delay=True)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        pass

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass

    def describe(self):
        return f"Give {self.name} parler's base class"

    def deconstruct(self):
        return self.__class__.__name__, [self.name], {}


def to_translations(apps, schema_editor):
    for model_name, translation_name in TRANSLATED:
        model = apps.get_model("tailored_cms", model_name)
        translation = apps.get_model("tailored_cms", translation_name)
        translation.objects.bulk_create(
            translation(master_id=pk, language_code=settings.LANGUAGE_CODE, name=name, description=description)
            for pk, name, description in model.objects.values_list("pk", "name", "description").iterator()
        )


def from_translations(apps, schema_editor):
    for model_name, translation_name in TRANSLATED:
        model = apps.get_model("tailored_cms", model_name)
        translation = apps.get_model("tailored_cms", translation_name)
        chosen = {}
        for master_id, language, name, description in translation.objects.order_by("pk").values_list(
            "master_id", "language_code", "name", "description"
        ):
            if master_id not in chosen or language == settings.LANGUAGE_CODE:
                chosen[master_id] = {"name": name, "description": description}
        for pk, values in chosen.items():
            model.objects.filter(pk=pk).update(**values)


def master_field(field_class, master):
    return field_class(
        editable=False,
        null=True,
        on_delete=django.db.models.deletion.CASCADE,
        related_name="translations",
        to=f"tailored_cms.{master}",
    )


def translation_model(name, master):
    return migrations.CreateModel(
        name=name,
        fields=[
            ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
            ("language_code", models.CharField(db_index=True, max_length=15, verbose_name="Language")),
            ("name", models.CharField(max_length=100, verbose_name="name")),
            ("description", models.TextField(blank=True, verbose_name="description")),
            ("master", master_field(models.ForeignKey, master)),
        ],
        options={
            "verbose_name": f"{master} Translation",
            "db_table": f"tailored_cms_{master}_translation",
            "db_tablespace": "",
            "managed": True,
            "default_permissions": (),
            "constraints": [
                models.UniqueConstraint(
                    fields=("language_code", "master"), name=f"tailored_cms_{master}_translation_uniq_lang"
                )
            ],
        },
        bases=(parler.models.TranslatedFieldsModelMixin, models.Model),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("tailored_cms", "0002_event_path"),
    ]

    operations = [
        translation_model("TopicTranslation", "topic"),
        translation_model("SegmentTranslation", "segment"),
        migrations.RunPython(to_translations, from_translations),
        migrations.AlterModelOptions(
            name="segment",
            options={"ordering": ("slug",), "verbose_name": "segment", "verbose_name_plural": "segments"},
        ),
        migrations.AlterModelOptions(
            name="topic",
            options={"ordering": ("position", "slug"), "verbose_name": "topic", "verbose_name_plural": "topics"},
        ),
        # Back, the columns come back empty (then filled from the translations): a name needs a default for that.
        *(
            migrations.AlterField(
                model_name=master, name="name", field=models.CharField(default="", max_length=100, verbose_name="name")
            )
            for master in ("topic", "segment")
        ),
        migrations.RemoveField(model_name="segment", name="description"),
        migrations.RemoveField(model_name="segment", name="name"),
        migrations.RemoveField(model_name="topic", name="description"),
        migrations.RemoveField(model_name="topic", name="name"),
        *(TranslatableBase(master) for master in ("topic", "segment")),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name=f"{master}translation",
                    name="master",
                    field=master_field(parler.fields.TranslationsForeignKey, master),
                )
                for master in ("topic", "segment")
            ]
        ),
    ]
