"""Seed the example content: topics, segments, a tailored homepage, tagged articles and an editor. Safe to run twice."""

from __future__ import annotations

from typing import Any

from cms.api import add_plugin, create_page
from cms.models import Page, PageContent, Placeholder
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from tailored_cms import api
from tailored_cms.rules.models import Segment
from tailored_cms.visitors.models import Topic

LANGUAGE = "en"
TOPICS = {
    "sports": ("Sports", "Matches, results and the people behind them."),
    "technology": ("Technology", "Gadgets, software and the web."),
    "culture": ("Culture", "Books, film, music and art."),
    "science": ("Science", "Discoveries and how we know what we know."),
    "travel": ("Travel", "Places to go and how to get there."),
}
ARTICLES = [
    ("Cup final goes to extra time", "sports", "A late equaliser sent the final into extra time."),
    ("The marathon that moved a city", "sports", "Forty thousand runners and one very long day."),
    ("Why the offside rule keeps changing", "sports", "Referees, cameras and a line drawn in pixels."),
    ("A phone that lasts a week", "technology", "Battery life is the new megapixel."),
    (
        "Open source runs the world",
        "technology",
        "What the maintainers of your dependencies want you to know.",
    ),
    ("Ten novels for the winter", "culture", "Long books for long evenings."),
    ("What the telescope saw", "science", "The first images from the new space telescope."),
    ("Night trains are back", "travel", "Sleep in Paris, wake up in Vienna."),
]
HERO = [
    (
        "Sports fans",
        ["sports"],
        "<h2>Tonight's big match</h2><p>Live scores, line-ups and the stories behind them.</p>",
    ),
    (
        "Tech readers",
        ["technology"],
        "<h2>This week in technology</h2><p>What shipped, what broke, what's next.</p>",
    ),
    ("Culture lovers", ["culture"], "<h2>Weekend culture guide</h2><p>Exhibitions, gigs and premieres.</p>"),
    ("Science curious", ["science"], "<h2>Discovery of the week</h2><p>Explained in five minutes.</p>"),
]
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
# The variants of "Recommended for you" (personalization): label, segment, priority (higher wins), content.
RECOMMENDED = [
    (
        "For sports fans",
        "sports-fans",
        40,
        "<h3>For sports fans: the weekend's fixtures, live</h3>"
        "<p>Every kick-off, line-up and score in one place, because you keep reading about the game.</p>",
    ),
    (
        "For tech fans",
        "tech-fans",
        30,
        "<h3>For tech fans: the gadgets worth your money</h3><p>Our reviewers' picks, tested for a month.</p>",
    ),
    (
        "Welcome back",
        "returning",
        20,
        "<h3>Welcome back: what you missed</h3><p>The stories that moved since your last visit.</p>",
    ),
    (
        "On a phone",
        "mobile",
        10,
        "<h3>On the go: today in two minutes</h3><p>The day's news, short enough for the bus stop.</p>",
    ),
]
RECOMMENDED_FALLBACK = (
    "<h3>Most read this week: night trains are back</h3>"
    "<p>Read a few articles and this space picks something for you.</p>"
)
WIDGETS = [
    ("Weather", "<p>Sunny, 21&nbsp;°C. Light wind from the west.</p>"),
    ("Markets", "<p>Indices up 0.4&nbsp;%. Oil steady.</p>"),
    ("Scores", "<p>City 2 – 1 United · Rovers 0 – 0 Athletic</p>"),
    (
        "Quote of the day",
        "<blockquote>“Simplicity is prerequisite for reliability.” — E. W. Dijkstra</blockquote>",
    ),
]


class Command(BaseCommand):
    help = "Seed the example site: topics, a tailored homepage, tagged articles and the editor login editor/editor."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            for position, (slug, (name, description)) in enumerate(TOPICS.items()):
                api.create_topic(slug, name, description=description, position=position)
            self._editor()
            segments_added = self._segments()
            _translate_names()
            home = Page.objects.filter(reverse_id="home").first()
            if home is not None:
                # Sites seeded before the panel, the privacy widgets or personalization existed get them too.
                added = [
                    name
                    for name, done in (
                        ("the panel", self._preferences_panel(home)),
                        ("the privacy widgets", self._privacy_widgets(home)),
                        ("the segments", segments_added),
                        ("the recommended area", self._recommended(home)),
                        ("the articles' reading lists", self._article_feeds()),
                    )
                    if done
                ]
                self.stdout.write(
                    "Example content already there: " + (f"added {' and '.join(added)}." if added else "left as it is.")
                )
                return
            self._homepage()
            self._articles()
            self._article_feeds()
            self._privacy_widgets(Page.objects.get(reverse_id="home"))
        self.stdout.write(self.style.SUCCESS("Seeded topics, segments, a tailored homepage and articles."))

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

    def _recommended(self, home: Page) -> bool:
        """Put "Recommended for you" (personalization) in the homepage's ``recommended`` slot if it is empty."""
        placeholder = {ph.slot: ph for ph in _placeholders(home)}.get("recommended")
        if placeholder is None or placeholder.get_plugins(LANGUAGE).exists():
            return False
        area = api.add_area(placeholder, LANGUAGE, strategy="personalization", label="Recommended for you")
        for label, segment, priority, body in RECOMMENDED:
            variant = api.add_variant(area, label=label, segments=[segment], priority=priority)
            add_plugin(placeholder, "TextPlugin", LANGUAGE, target=variant, body=body)
        fallback = api.add_variant(area, label="Everyone else", fallback=True)
        add_plugin(placeholder, "TextPlugin", LANGUAGE, target=fallback, body=RECOMMENDED_FALLBACK)
        placeholder.clear_cache(LANGUAGE)
        return True

    def _homepage(self) -> None:
        home = create_page("Home", "home.html", LANGUAGE, reverse_id="home", in_navigation=True, slug="home")
        home.set_as_homepage()
        placeholders = {ph.slot: ph for ph in _placeholders(home)}

        hero = api.add_area(placeholders["hero"], LANGUAGE, strategy="customization", label="Homepage hero")
        for label, topics, body in HERO:
            variant = api.add_variant(hero, label=label, topics=topics)
            add_plugin(placeholders["hero"], "TextPlugin", LANGUAGE, target=variant, body=body)
        fallback = api.add_variant(hero, label="Everyone else", fallback=True)
        add_plugin(
            placeholders["hero"],
            "TextPlugin",
            LANGUAGE,
            target=fallback,
            body="<h2>Welcome to Tailored News</h2><p>Pick the topics you follow to make this page yours.</p>",
        )

        picks = api.add_area(
            placeholders["content"], LANGUAGE, strategy="customization", max_items=2, label="Today's picks"
        )
        for label, topic, summary in ARTICLES[::2]:
            variant = api.add_variant(picks, label=label, topics=[topic])
            add_plugin(
                placeholders["content"],
                "TextPlugin",
                LANGUAGE,
                target=variant,
                body=f"<h3>{label}</h3><p>{summary}</p>",
            )
        editors_pick = api.add_variant(picks, label="Editor's pick", fallback=True)
        add_plugin(
            placeholders["content"],
            "TextPlugin",
            LANGUAGE,
            target=editors_pick,
            body="<h3>Editor's pick: night trains are back</h3><p>Sleep in Paris, wake up in Vienna.</p>",
        )

        board = api.add_widget_board(placeholders["widgets"], LANGUAGE, label="Your widgets")
        for title, body in WIDGETS:
            widget = api.add_widget(board, title)
            add_plugin(placeholders["widgets"], "TextPlugin", LANGUAGE, target=widget, body=body)

        add_plugin(placeholders["sidebar"], "TopicFeedPlugin", LANGUAGE, title="For you", limit=6)
        self._preferences_panel(home)
        self._recommended(home)

    def _preferences_panel(self, home: Page) -> bool:
        """Put the panel at the top of the homepage's sidebar (above the feed) unless it has one; ``True`` if added."""
        sidebar = {ph.slot: ph for ph in _placeholders(home)}.get("sidebar")
        if sidebar is None or sidebar.get_plugins(LANGUAGE).filter(plugin_type="PreferencesPanelPlugin").exists():
            return False
        add_plugin(sidebar, "PreferencesPanelPlugin", LANGUAGE, position="first-child", title="Customize this site")
        sidebar.clear_cache(LANGUAGE)
        return True

    def _privacy_widgets(self, home: Page) -> bool:
        """A consent banner in every page's footer, "Why am I seeing this?" below the homepage's sidebar."""
        added = False
        for page in Page.objects.all():
            footer = {ph.slot: ph for ph in _placeholders(page)}.get("footer")
            if footer is None or footer.get_plugins(LANGUAGE).filter(plugin_type="ConsentBannerPlugin").exists():
                continue
            add_plugin(footer, "ConsentBannerPlugin", LANGUAGE)
            footer.clear_cache(LANGUAGE)
            added = True
        sidebar = {ph.slot: ph for ph in _placeholders(home)}.get("sidebar")
        if sidebar is not None and not sidebar.get_plugins(LANGUAGE).filter(plugin_type="ExplanationPlugin").exists():
            add_plugin(sidebar, "ExplanationPlugin", LANGUAGE, position="last-child")
            sidebar.clear_cache(LANGUAGE)
            added = True
        return added

    def _articles(self) -> None:
        for title, topic, summary in ARTICLES:
            page = create_page(title, "page.html", LANGUAGE, in_navigation=False)
            api.tag_page(page, [topic])
            content = {ph.slot: ph for ph in _placeholders(page)}
            add_plugin(content["content"], "TextPlugin", LANGUAGE, body=f"<p>{summary}</p>")

    def _article_feeds(self) -> bool:
        """Put "More to read" in the sidebar of each article without a feed, so visitors browse from one to the
        next (three sports articles make a sports fan); ``True`` if any was added."""
        added = False
        titles = [title for title, _topic, _summary in ARTICLES]
        for content in PageContent.objects.filter(language=LANGUAGE, title__in=titles).select_related("page"):
            sidebar = {ph.slot: ph for ph in _placeholders(content.page)}.get("sidebar")
            if sidebar is None or sidebar.get_plugins(LANGUAGE).filter(plugin_type="TopicFeedPlugin").exists():
                continue
            add_plugin(sidebar, "TopicFeedPlugin", LANGUAGE, title="More to read", limit=len(ARTICLES))
            sidebar.clear_cache(LANGUAGE)
            added = True
        return added


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


def _placeholders(page: Page) -> list[Placeholder]:
    return list(page.get_content_obj(LANGUAGE).rescan_placeholders().values())
