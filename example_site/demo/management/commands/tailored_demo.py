"""Seed the example content: topics, segments, a tailored homepage, tagged articles and an editor, the pages in
English, Spanish and Italian (their texts: ``example_site.demo.content``). Safe to run twice."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from cms.api import add_plugin, create_page, create_page_content
from cms.models import Page, PageContent, Placeholder
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone, translation
from django.utils.text import slugify

from example_site.demo import content
from example_site.demo.content import LANGUAGES
from example_site.demo.history import seed_history
from tailored_cms import api
from tailored_cms.areas.models import TailoredArea, Variant
from tailored_cms.results.models import VariantStats
from tailored_cms.rules.models import Segment
from tailored_cms.visitors.models import Topic

TOPICS = {
    "sports": ("Sports", "Matches, results and the people behind them."),
    "technology": ("Technology", "Gadgets, software and the web."),
    "culture": ("Culture", "Books, film, music and art."),
    "science": ("Science", "Discoveries and how we know what we know."),
    "travel": ("Travel", "Places to go and how to get there."),
}
# Segments the homepage's "Recommended for you" area targets: slug -> (name, description, rule tree).
SEGMENTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "sports-fans": (
        "Sports fans",
        "Read three sports articles in the last 30 days.",
        {"all": [{"rule": "topic_views", "topic": "sports", "min": 3, "days": 30}]},
    ),
    "tech-fans": (
        "Tech fans",
        "Read two technology articles in the last 30 days.",
        {"all": [{"rule": "topic_views", "topic": "technology", "min": 2, "days": 30}]},
    ),
    "mobile": ("On a phone", "Reading on a mobile phone right now.", {"rule": "device", "is": "mobile"}),
    "returning": ("Returning visitors", "Came back: two visits or more.", {"rule": "visit_count", "min": 2}),
}
# The topics' and segments' names and descriptions in the example site's other languages: slug -> language -> both.
TOPICS_TRANSLATED = {
    "sports": {
        "es": ("Deportes", "Partidos, resultados y las personas que hay detrás."),
        "it": ("Sport", "Partite, risultati e le persone che ci sono dietro."),
    },
    "technology": {
        "es": ("Tecnología", "Dispositivos, software y la web."),
        "it": ("Tecnologia", "Dispositivi, software e il web."),
    },
    "culture": {
        "es": ("Cultura", "Libros, cine, música y arte."),
        "it": ("Cultura", "Libri, cinema, musica e arte."),
    },
    "science": {
        "es": ("Ciencia", "Descubrimientos y cómo sabemos lo que sabemos."),
        "it": ("Scienza", "Scoperte e come sappiamo ciò che sappiamo."),
    },
    "travel": {
        "es": ("Viajes", "Adónde ir y cómo llegar."),
        "it": ("Viaggi", "Dove andare e come arrivarci."),
    },
}
SEGMENTS_TRANSLATED = {
    "sports-fans": {
        "es": ("Aficionados al deporte", "Han leído tres artículos de deportes en los últimos 30 días."),
        "it": ("Appassionati di sport", "Hanno letto tre articoli di sport negli ultimi 30 giorni."),
    },
    "tech-fans": {
        "es": ("Aficionados a la tecnología", "Han leído dos artículos de tecnología en los últimos 30 días."),
        "it": ("Appassionati di tecnologia", "Hanno letto due articoli di tecnologia negli ultimi 30 giorni."),
    },
    "mobile": {
        "es": ("Desde el móvil", "Leen ahora mismo desde un teléfono móvil."),
        "it": ("Da smartphone", "Stanno leggendo da uno smartphone in questo momento."),
    },
    "returning": {
        "es": ("Visitantes que vuelven", "Han vuelto: dos visitas o más."),
        "it": ("Visitatori di ritorno", "Sono tornati: due visite o più."),
    },
}


class Command(BaseCommand):
    help = (
        "Seed the example site: topics, a tailored homepage, tagged articles (in English, Spanish and Italian) "
        "and the editor login editor/editor."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--history",
            action="store_true",
            help="Also add an optimize area and an experiment to the homepage, and 30 days of simulated visits to "
            "it through the ingest, so the results have figures to read (once: not again if the results have some).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            for position, (slug, (name, description)) in enumerate(TOPICS.items()):
                api.create_topic(slug, name, description=description, position=position)
            self._editor()
            segments_added = self._segments()
            _translate_names()
            fresh = not Page.objects.filter(reverse_id="home").exists()
            if fresh:
                self._pages()
            home = Page.objects.get(reverse_id="home")
            # Sites seeded before a language, the panel, the privacy widgets or personalization get them too.
            added: dict[str, None] = {}
            for language in LANGUAGES:
                with translation.override(language):  # the plugins' default texts (the banner's) in its language
                    steps = (
                        ("the pages", self._page_contents(home, language)),
                        ("the hero", self._hero(home, language)),
                        ("today's picks", self._picks(home, language)),
                        ("the widgets", self._board(home, language)),
                        ("the topic feed", self._for_you(home, language)),
                        ("the panel", self._preferences_panel(home, language)),
                        ("the privacy widgets", self._privacy_widgets(home, language)),
                        ("the quiz", self._quiz(home, language)),
                        ("the segments", segments_added),
                        ("the recommended area", self._recommended(home, language)),
                        ("the Black Friday campaign", self._black_friday(home, language)),
                        ("the recommended pages", self._read_next(home, language)),
                        ("the articles' reading lists", self._article_feeds(language)),
                        ("the tested areas", options["history"] and self._tested_areas(home, language)),
                    )
                added.update((name, None) for name, done in steps if done and not fresh)
        if fresh:
            self.stdout.write(
                self.style.SUCCESS(
                    "Seeded topics, segments, a tailored homepage and articles in English, Spanish and Italian."
                )
            )
        else:
            self.stdout.write(
                "Example content already there: " + (f"added {' and '.join(added)}." if added else "left as it is.")
            )
        if options["history"]:
            if VariantStats.objects.exists():
                self.stdout.write("Results already there: no history added.")
            else:
                events = seed_history(home)
                self.stdout.write(self.style.SUCCESS(f"Seeded 30 days of visits: {events} events through the ingest."))

    def _editor(self) -> None:
        user_model = get_user_model()
        if not user_model.objects.filter(username="editor").exists():
            user_model.objects.create_superuser("editor", "editor@example.com", "editor")

    def _segments(self) -> bool:
        """The demo's segments that are missing; ``True`` if any was added. An editor's changes to one are kept."""
        existing = set(Segment.objects.filter(slug__in=SEGMENTS).values_list("slug", flat=True))
        for slug, (name, description, rules) in SEGMENTS.items():
            if slug not in existing:
                api.create_segment(slug, name, rules=rules, description=description)
        return len(existing) < len(SEGMENTS)

    def _pages(self) -> None:
        """The homepage and the articles, tagged with their topics, in English (the other languages follow)."""
        home = create_page(
            content.HOME_TITLE["en"],
            "home.html",
            "en",
            reverse_id="home",
            in_navigation=True,
            slug=content.HOME_SLUG["en"],
        )
        home.set_as_homepage()
        for topic, texts in content.ARTICLES:
            api.tag_page(create_page(texts["en"][0], "page.html", "en", in_navigation=False), [topic])

    def _page_contents(self, home: Page, language: str) -> bool:
        """The homepage and each article in ``language`` (an article with its text), where missing."""
        added = False
        if not PageContent.objects.filter(page=home, language=language).exists():
            create_page_content(
                language,
                content.HOME_TITLE[language],
                home,
                slug=content.HOME_SLUG[language],
                template="home.html",
                in_navigation=True,
            )
            added = True
        for page, (title, summary) in _articles(language):
            if not PageContent.objects.filter(page=page, language=language).exists():
                create_page_content(language, title, page, slug=slugify(title.replace("’", " ")), template="page.html")
                added = True
            text = _placeholders(page, language)["content"]
            if not text.get_plugins(language).exists():
                add_plugin(text, "TextPlugin", language, body=f"<p>{summary}</p>")
                text.clear_cache(language)
                added = True
        return added

    def _hero(self, home: Page, language: str) -> bool:
        """The hero (customization by topic) in the homepage's ``hero`` slot, if it is empty."""
        slot = _placeholders(home, language)["hero"]
        if slot.get_plugins(language).exists():
            return False
        hero = api.add_area(slot, language, strategy="customization", label=content.HERO_LABEL[language])
        for label, topics, body in content.HERO[language]:
            variant = api.add_variant(hero, label=label, topics=topics)
            add_plugin(slot, "TextPlugin", language, target=variant, body=body)
        fallback = api.add_variant(hero, label=content.EVERYONE_ELSE[language], fallback=True)
        add_plugin(slot, "TextPlugin", language, target=fallback, body=content.HERO_FALLBACK[language])
        slot.clear_cache(language)
        return True

    def _picks(self, home: Page, language: str) -> bool:
        """ "Today's picks" (two articles by the visitor's topics) in the ``content`` slot, if it is empty."""
        slot = _placeholders(home, language)["content"]
        if slot.get_plugins(language).exists():
            return False
        picks = api.add_area(slot, language, strategy="customization", max_items=2, label=content.PICKS_LABEL[language])
        for topic, texts in content.PICKS:
            title, summary = texts[language]
            variant = api.add_variant(picks, label=title, topics=[topic])
            add_plugin(slot, "TextPlugin", language, target=variant, body=f"<h3>{title}</h3><p>{summary}</p>")
        label, body = content.EDITORS_PICK[language]
        editors_pick = api.add_variant(picks, label=label, fallback=True)
        add_plugin(slot, "TextPlugin", language, target=editors_pick, body=body)
        slot.clear_cache(language)
        return True

    def _board(self, home: Page, language: str) -> bool:
        """The widget board in the ``widgets`` slot, if it is empty."""
        slot = _placeholders(home, language)["widgets"]
        if slot.get_plugins(language).exists():
            return False
        board = api.add_widget_board(slot, language, label=content.BOARD_LABEL[language])
        for key, title, body in content.WIDGETS[language]:
            widget = api.add_widget(board, title, key=key)
            add_plugin(slot, "TextPlugin", language, target=widget, body=body)
        slot.clear_cache(language)
        return True

    def _for_you(self, home: Page, language: str) -> bool:
        """The "For you" topic feed in the homepage's sidebar, unless it has a feed."""
        sidebar = _placeholders(home, language)["sidebar"]
        if sidebar.get_plugins(language).filter(plugin_type="TopicFeedPlugin").exists():
            return False
        add_plugin(sidebar, "TopicFeedPlugin", language, title=content.FOR_YOU[language], limit=6)
        sidebar.clear_cache(language)
        return True

    def _recommended(self, home: Page, language: str) -> bool:
        """Put "Recommended for you" (personalization) in the homepage's ``recommended`` slot if it is empty."""
        slot = _placeholders(home, language).get("recommended")
        if slot is None or slot.get_plugins(language).exists():
            return False
        area = api.add_area(slot, language, strategy="personalization", label=content.RECOMMENDED_LABEL[language])
        for label, segment, priority, body in content.RECOMMENDED[language]:
            variant = api.add_variant(area, label=label, segments=[segment], priority=priority)
            add_plugin(slot, "TextPlugin", language, target=variant, body=body)
        fallback = api.add_variant(area, label=content.EVERYONE_ELSE[language], fallback=True)
        add_plugin(slot, "TextPlugin", language, target=fallback, body=content.RECOMMENDED_FALLBACK[language])
        slot.clear_cache(language)
        return True

    def _black_friday(self, home: Page, language: str) -> bool:
        """A campaign variant in "Recommended for you" for the next Black Friday weekend, unless the area has a
        variant with a window already: before the usual fallback, so it replaces it while it runs."""
        slot = _placeholders(home, language).get("recommended")
        area = TailoredArea.objects.filter(placeholder=slot, language=language).first() if slot else None
        if area is None:
            return False
        windowed = Variant.objects.filter(parent=area).exclude(
            tailored_settings__starts_at=None, tailored_settings__ends_at=None
        )
        if windowed.exists():
            return False
        starts_at, ends_at = black_friday(timezone.localdate())
        label, body = content.BLACK_FRIDAY[language]
        variant = api.add_variant(
            area, label=label, fallback=True, starts_at=starts_at, ends_at=ends_at, position="first-child"
        )
        add_plugin(slot, "TextPlugin", language, target=variant, body=body)
        slot.clear_cache(language)
        return True

    def _read_next(self, home: Page, language: str) -> bool:
        """Put "Read next" (the Recommended pages plugin) in the homepage's ``read-next`` slot if it is empty."""
        slot = _placeholders(home, language).get("read-next")
        if slot is None or slot.get_plugins(language).exists():
            return False
        add_plugin(slot, "RecommendedPagesPlugin", language, title=content.READ_NEXT[language], limit=5)
        slot.clear_cache(language)
        return True

    def _tested_areas(self, home: Page, language: str) -> bool:
        """Under today's picks, unless there: the weekend teaser (optimize, 20 % held out) and the newsletter
        sign-up (an experiment judged on sign-ups); ``True`` if added."""
        slot = _placeholders(home, language)["content"]
        if TailoredArea.objects.filter(placeholder=slot, tailored_settings__strategy="optimize").exists():
            return False
        teaser = api.add_area(
            slot, language, strategy="optimize", label=content.TEASER_LABEL[language], holdout_percent=20
        )
        for label, body in content.TEASERS[language]:
            add_plugin(slot, "TextPlugin", language, target=api.add_variant(teaser, label=label), body=body)
        fallback = api.add_variant(teaser, label=content.EVERYONE_ELSE[language], fallback=True)
        add_plugin(slot, "TextPlugin", language, target=fallback, body=content.TEASER_FALLBACK[language])
        newsletter = api.add_area(
            slot,
            language,
            strategy="experiment",
            label=content.NEWSLETTER_LABEL[language],
            goal=content.NEWSLETTER_GOAL,
        )
        for label, body in content.NEWSLETTER[language]:
            add_plugin(slot, "TextPlugin", language, target=api.add_variant(newsletter, label=label), body=body)
        fallback = api.add_variant(newsletter, label=content.EVERYONE_ELSE[language], fallback=True)
        add_plugin(slot, "TextPlugin", language, target=fallback, body=content.NEWSLETTER[language][0][1])
        slot.clear_cache(language)
        return True

    def _preferences_panel(self, home: Page, language: str) -> bool:
        """Put the panel at the top of the homepage's sidebar (above the feed) unless it has one; ``True`` if added."""
        sidebar = _placeholders(home, language).get("sidebar")
        if sidebar is None or sidebar.get_plugins(language).filter(plugin_type="PreferencesPanelPlugin").exists():
            return False
        add_plugin(sidebar, "PreferencesPanelPlugin", language, position="first-child")  # its title: the catalog's
        sidebar.clear_cache(language)
        return True

    def _privacy_widgets(self, home: Page, language: str) -> bool:
        """A consent banner in every page's footer, "Why am I seeing this?" below the homepage's sidebar."""
        added = False
        for content_obj in PageContent.objects.filter(language=language).select_related("page"):
            footer = _placeholders(content_obj.page, language).get("footer")
            if footer is None or footer.get_plugins(language).filter(plugin_type="ConsentBannerPlugin").exists():
                continue
            add_plugin(footer, "ConsentBannerPlugin", language)  # its message: the catalog's
            footer.clear_cache(language)
            added = True
        sidebar = _placeholders(home, language).get("sidebar")
        if sidebar is not None and not sidebar.get_plugins(language).filter(plugin_type="ExplanationPlugin").exists():
            add_plugin(sidebar, "ExplanationPlugin", language, position="last-child")
            sidebar.clear_cache(language)
            added = True
        return added

    def _quiz(self, home: Page, language: str) -> bool:
        """Put the onboarding quiz at the end of the homepage's sidebar unless it has one; ``True`` if added."""
        sidebar = _placeholders(home, language).get("sidebar")
        if sidebar is None or sidebar.get_plugins(language).filter(plugin_type="QuizPlugin").exists():
            return False
        quiz = add_plugin(sidebar, "QuizPlugin", language, title=content.QUIZ_TITLE[language], position="last-child")
        for text, multiple, answers in content.QUIZ[language]:
            question = add_plugin(sidebar, "QuizQuestionPlugin", language, target=quiz, text=text, multiple=multiple)
            for label, topics, traits in answers:
                answer = add_plugin(sidebar, "QuizAnswerPlugin", language, target=question, label=label, traits=traits)
                answer.topics.set(Topic.objects.filter(slug__in=topics))
        sidebar.clear_cache(language)
        return True

    def _article_feeds(self, language: str) -> bool:
        """Put "More to read" in the sidebar of each article without a feed, so visitors browse from one to the
        next (three sports articles make a sports fan); ``True`` if any was added."""
        added = False
        for page, _texts in _articles(language):
            sidebar = _placeholders(page, language).get("sidebar")
            if sidebar is None or sidebar.get_plugins(language).filter(plugin_type="TopicFeedPlugin").exists():
                continue
            add_plugin(
                sidebar, "TopicFeedPlugin", language, title=content.MORE_TO_READ[language], limit=len(content.ARTICLES)
            )
            sidebar.clear_cache(language)
            added = True
        return added


def black_friday(today: date) -> tuple[datetime, datetime]:
    """The next Black Friday weekend not over by ``today``: from the Friday after the fourth Thursday of November
    until the end of the Monday after (Cyber Monday), midnight in the site's time zone."""
    for year in (today.year, today.year + 1):
        first = date(year, 11, 1)
        thursday = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
        friday, tuesday = thursday + timedelta(days=1), thursday + timedelta(days=5)
        if tuesday > today:
            break
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(friday, time.min, tzinfo=zone),
        datetime.combine(tuesday, time.min, tzinfo=zone),
    )


def _articles(language: str) -> list[tuple[Page, tuple[str, str]]]:
    """The demo's article pages (found by their English titles), each with its title and summary in ``language``."""
    texts = {article["en"][0]: article[language] for _topic, article in content.ARTICLES}
    found = PageContent.objects.filter(language="en", title__in=texts).select_related("page")
    return [(found_content.page, texts[found_content.title]) for found_content in found]


def _translate_names() -> None:
    """The Spanish and Italian names and descriptions of the demo's topics and segments, in the languages where
    one has none yet: an editor's are kept."""
    for model, translated in ((Topic, TOPICS_TRANSLATED), (Segment, SEGMENTS_TRANSLATED)):
        for item in model.objects.filter(slug__in=translated):
            written = set(item.get_available_languages())
            for language, (name, description) in translated[item.slug].items():
                if language not in written:
                    item.set_current_language(language)
                    item.name, item.description = name, description
            item.save_translations()


def _placeholders(page: Page, language: str) -> dict[str, Placeholder]:
    """The placeholders of ``page``'s content in ``language``, by slot."""
    return PageContent.objects.get(page=page, language=language).rescan_placeholders()
