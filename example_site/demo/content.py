"""The demo's pages and plugins in each of the example site's languages (``tailored_demo`` seeds them).

Every text is keyed by language: English, Spanish and Italian, written for a reader of each, formal address
(usted, Lei). Widget keys are the same in every language, so a visitor's board (order, hidden widgets) is the
same board whichever language they read it in.
"""

from __future__ import annotations

LANGUAGES = ("en", "es", "it")

HOME_TITLE = {"en": "Home", "es": "Portada", "it": "Prima pagina"}
HOME_SLUG = {"en": "home", "es": "portada", "it": "prima-pagina"}

# topic, then per language: title, summary. The English title names the article (the seeder finds it by it).
ARTICLES: list[tuple[str, dict[str, tuple[str, str]]]] = [
    (
        "technology",
        {
            "en": ("The quiet return of the desktop computer", "Why more people are buying towers again."),
            "es": (
                "El discreto regreso del ordenador de sobremesa",
                "Por qué cada vez más gente vuelve a comprar torres.",
            ),
            "it": ("Il ritorno silenzioso del computer fisso", "Perché sempre più persone tornano al desktop."),
        },
    ),
    (
        "technology",
        {
            "en": ("What your password manager knows", "Less than you fear, more than you think."),
            "es": ("Lo que sabe su gestor de contraseñas", "Menos de lo que teme, más de lo que cree."),
            "it": ("Che cosa sa il Suo gestore di password", "Meno di quanto teme, più di quanto pensa."),
        },
    ),
    (
        "technology",
        {
            "en": ("Robots in the warehouse", "The machines that pack your parcels."),
            "es": ("Robots en el almacén", "Las máquinas que empaquetan sus pedidos."),
            "it": ("Robot in magazzino", "Le macchine che impacchettano i Suoi pacchi."),
        },
    ),
    (
        "sports",
        {
            "en": ("Cup final goes to extra time", "A late equaliser sent the final into extra time."),
            "es": (
                "La final de copa se va a la prórroga",
                "Un empate en los últimos minutos llevó la final a la prórroga.",
            ),
            "it": (
                "La finale di coppa va ai supplementari",
                "Un pareggio nei minuti finali ha portato la finale ai tempi supplementari.",
            ),
        },
    ),
    (
        "sports",
        {
            "en": ("The marathon that moved a city", "Forty thousand runners and one very long day."),
            "es": ("El maratón que movió una ciudad", "Cuarenta mil corredores y un día muy largo."),
            "it": ("La maratona che ha mosso una città", "Quarantamila corridori e una giornata lunghissima."),
        },
    ),
    (
        "sports",
        {
            "en": ("Why the offside rule keeps changing", "Referees, cameras and a line drawn in pixels."),
            "es": (
                "Por qué la regla del fuera de juego no deja de cambiar",
                "Árbitros, cámaras y una línea trazada en píxeles.",
            ),
            "it": (
                "Perché la regola del fuorigioco continua a cambiare",
                "Arbitri, telecamere e una linea tracciata in pixel.",
            ),
        },
    ),
    (
        "technology",
        {
            "en": ("A phone that lasts a week", "Battery life is the new megapixel."),
            "es": ("Un teléfono que dura una semana", "La autonomía es el nuevo megapíxel."),
            "it": ("Un telefono che dura una settimana", "L’autonomia è il nuovo megapixel."),
        },
    ),
    (
        "technology",
        {
            "en": ("Open source runs the world", "What the maintainers of your dependencies want you to know."),
            "es": (
                "El código abierto mueve el mundo",
                "Lo que quienes mantienen sus dependencias quieren que usted sepa.",
            ),
            "it": (
                "Il software libero manda avanti il mondo",
                "Ciò che i manutentori delle Sue dipendenze vorrebbero che Lei sapesse.",
            ),
        },
    ),
    (
        "culture",
        {
            "en": ("Ten novels for the winter", "Long books for long evenings."),
            "es": ("Diez novelas para el invierno", "Libros largos para las noches largas."),
            "it": ("Dieci romanzi per l’inverno", "Libri lunghi per le lunghe serate."),
        },
    ),
    (
        "science",
        {
            "en": ("What the telescope saw", "The first images from the new space telescope."),
            "es": ("Lo que vio el telescopio", "Las primeras imágenes del nuevo telescopio espacial."),
            "it": ("Che cosa ha visto il telescopio", "Le prime immagini del nuovo telescopio spaziale."),
        },
    ),
    (
        "travel",
        {
            "en": ("Night trains are back", "Sleep in Paris, wake up in Vienna."),
            "es": ("Vuelven los trenes nocturnos", "Duerma en París y despierte en Viena."),
            "it": ("Tornano i treni notturni", "Si addormenti a Parigi e si svegli a Vienna."),
        },
    ),
]

# "Today's picks": four articles, each a variant for the readers of its topic.
PICKS = ARTICLES[3::2]

# The homepage hero (customization): per language, its label and its variants' (label, topics, body).
HERO_LABEL = {"en": "Homepage hero", "es": "Destacado", "it": "In evidenza"}
HERO: dict[str, list[tuple[str, list[str], str]]] = {
    "en": [
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
    ],
    "es": [
        (
            "Aficionados al deporte",
            ["sports"],
            "<h2>El gran partido de esta noche</h2>"
            "<p>Resultados en directo, alineaciones y las historias que hay detrás.</p>",
        ),
        (
            "Lectores de tecnología",
            ["technology"],
            "<h2>Esta semana en tecnología</h2><p>Lo que ha salido, lo que ha fallado y lo que viene.</p>",
        ),
        (
            "Amantes de la cultura",
            ["culture"],
            "<h2>Guía cultural del fin de semana</h2><p>Exposiciones, conciertos y estrenos.</p>",
        ),
        (
            "Curiosos de la ciencia",
            ["science"],
            "<h2>El descubrimiento de la semana</h2><p>Explicado en cinco minutos.</p>",
        ),
    ],
    "it": [
        (
            "Appassionati di sport",
            ["sports"],
            "<h2>La grande partita di stasera</h2>"
            "<p>Risultati in diretta, formazioni e le storie che ci sono dietro.</p>",
        ),
        (
            "Lettori di tecnologia",
            ["technology"],
            "<h2>Questa settimana nella tecnologia</h2><p>Che cosa è uscito, che cosa si è rotto, che cosa arriva.</p>",
        ),
        (
            "Amanti della cultura",
            ["culture"],
            "<h2>Guida culturale del fine settimana</h2><p>Mostre, concerti e prime.</p>",
        ),
        (
            "Curiosi di scienza",
            ["science"],
            "<h2>La scoperta della settimana</h2><p>Spiegata in cinque minuti.</p>",
        ),
    ],
}
EVERYONE_ELSE = {"en": "Everyone else", "es": "Todos los demás", "it": "Tutti gli altri"}
HERO_FALLBACK = {
    "en": "<h2>Welcome to Tailored News</h2><p>Pick the topics you follow to make this page yours.</p>",
    "es": "<h2>Le damos la bienvenida a Tailored News</h2><p>Elija los temas que sigue y haga suya esta página.</p>",
    "it": "<h2>Le diamo il benvenuto su Tailored News</h2>"
    "<p>Scelga gli argomenti che segue e renda Sua questa pagina.</p>",
}

# "Today's picks" (customization, two at a time): every other article, and the editor's pick for everyone else.
PICKS_LABEL = {"en": "Today's picks", "es": "La selección de hoy", "it": "Le scelte di oggi"}
EDITORS_PICK = {
    "en": ("Editor's pick", "<h3>Editor's pick: night trains are back</h3><p>Sleep in Paris, wake up in Vienna.</p>"),
    "es": (
        "La elección de la redacción",
        "<h3>La elección de la redacción: vuelven los trenes nocturnos</h3>"
        "<p>Duerma en París y despierte en Viena.</p>",
    ),
    "it": (
        "La scelta della redazione",
        "<h3>La scelta della redazione: tornano i treni notturni</h3>"
        "<p>Si addormenti a Parigi e si svegli a Vienna.</p>",
    ),
}

# "Recommended for you" (personalization): per language, its label and its variants' (label, segment, priority,
# body), higher priority winning; then what everyone else gets.
RECOMMENDED_LABEL = {"en": "Recommended for you", "es": "Recomendado para usted", "it": "Consigliati per Lei"}
RECOMMENDED: dict[str, list[tuple[str, str, int, str]]] = {
    "en": [
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
    ],
    "es": [
        (
            "Para aficionados al deporte",
            "sports-fans",
            40,
            "<h3>Para aficionados al deporte: los partidos del fin de semana, en directo</h3>"
            "<p>Cada saque inicial, cada alineación y cada resultado en un solo lugar, porque usted no deja de "
            "leer sobre fútbol.</p>",
        ),
        (
            "Para aficionados a la tecnología",
            "tech-fans",
            30,
            "<h3>Para aficionados a la tecnología: los aparatos que merecen su dinero</h3>"
            "<p>Lo que eligen nuestros analistas, tras un mes de pruebas.</p>",
        ),
        (
            "Visitantes que vuelven",
            "returning",
            20,
            "<h3>Nos alegra verle de nuevo: esto es lo que se ha perdido</h3>"
            "<p>Las noticias que han avanzado desde su última visita.</p>",
        ),
        (
            "En el móvil",
            "mobile",
            10,
            "<h3>Sobre la marcha: el día en dos minutos</h3>"
            "<p>Las noticias del día, tan breves que caben en la espera del autobús.</p>",
        ),
    ],
    "it": [
        (
            "Per gli appassionati di sport",
            "sports-fans",
            40,
            "<h3>Per gli appassionati di sport: le partite del fine settimana, in diretta</h3>"
            "<p>Ogni calcio d’inizio, formazione e risultato in un unico posto, perché Lei continua a leggere "
            "di calcio.</p>",
        ),
        (
            "Per gli appassionati di tecnologia",
            "tech-fans",
            30,
            "<h3>Per gli appassionati di tecnologia: i dispositivi che valgono la spesa</h3>"
            "<p>Le scelte dei nostri recensori, provate per un mese.</p>",
        ),
        (
            "Chi torna a trovarci",
            "returning",
            20,
            "<h3>Che piacere rivederLa: ecco che cosa si è perso</h3>"
            "<p>Le notizie che sono andate avanti dalla Sua ultima visita.</p>",
        ),
        (
            "Sul telefono",
            "mobile",
            10,
            "<h3>In movimento: la giornata in due minuti</h3>"
            "<p>Le notizie del giorno, brevi quanto l’attesa dell’autobus.</p>",
        ),
    ],
}
RECOMMENDED_FALLBACK = {
    "en": "<h3>Most read this week: night trains are back</h3>"
    "<p>Read a few articles and this space picks something for you.</p>",
    "es": "<h3>Lo más leído de la semana: vuelven los trenes nocturnos</h3>"
    "<p>Lea algunos artículos y este espacio elegirá algo para usted.</p>",
    "it": "<h3>I più letti della settimana: tornano i treni notturni</h3>"
    "<p>Legga qualche articolo e questo spazio sceglierà qualcosa per Lei.</p>",
}

# A campaign in "Recommended for you": from Black Friday until the end of Cyber Monday, everyone no segment picks
# something for sees it instead of the usual fallback (its label, body).
BLACK_FRIDAY = {
    "en": (
        "Black Friday to Cyber Monday",
        "<h3>Black Friday: half price on a year of Tailored News</h3>"
        "<p>Until Monday midnight: every article, every newsletter, no ads.</p>",
    ),
    "es": (
        "Del Black Friday al Cyber Monday",
        "<h3>Black Friday: un año de Tailored News a mitad de precio</h3>"
        "<p>Hasta el lunes a medianoche: todos los artículos, todos los boletines, sin anuncios.</p>",
    ),
    "it": (
        "Dal Black Friday al Cyber Monday",
        "<h3>Black Friday: un anno di Tailored News a metà prezzo</h3>"
        "<p>Fino a lunedì a mezzanotte: tutti gli articoli, tutte le newsletter, niente pubblicità.</p>",
    ),
}

# The widget board: per language, its label and its widgets' (key, title, body).
BOARD_LABEL = {"en": "Your widgets", "es": "Sus widgets", "it": "I Suoi widget"}
QUOTE = "E. W. Dijkstra"
WIDGETS: dict[str, list[tuple[str, str, str]]] = {
    "en": [
        ("weather", "Weather", "<p>Sunny, 21&nbsp;°C. Light wind from the west.</p>"),
        ("markets", "Markets", "<p>Indices up 0.4&nbsp;%. Oil steady.</p>"),
        ("scores", "Scores", "<p>City 2 – 1 United · Rovers 0 – 0 Athletic</p>"),
        (
            "quote",
            "Quote of the day",
            f"<blockquote>“Simplicity is prerequisite for reliability.” — {QUOTE}</blockquote>",
        ),
    ],
    "es": [
        ("weather", "Tiempo", "<p>Soleado, 21&nbsp;°C. Viento flojo del oeste.</p>"),
        ("markets", "Mercados", "<p>Los índices suben un 0,4&nbsp;%. El petróleo, estable.</p>"),
        ("scores", "Resultados", "<p>City 2 – 1 United · Rovers 0 – 0 Athletic</p>"),
        (
            "quote",
            "La cita del día",
            f"<blockquote>«La sencillez es requisito previo de la fiabilidad». — {QUOTE}</blockquote>",
        ),
    ],
    "it": [
        ("weather", "Meteo", "<p>Sereno, 21&nbsp;°C. Vento debole da ovest.</p>"),
        ("markets", "Mercati", "<p>Indici in rialzo dello 0,4&nbsp;%. Petrolio stabile.</p>"),
        ("scores", "Risultati", "<p>City 2 – 1 United · Rovers 0 – 0 Athletic</p>"),
        (
            "quote",
            "La citazione del giorno",
            f"<blockquote>«La semplicità è un prerequisito dell’affidabilità.» — {QUOTE}</blockquote>",
        ),
    ],
}

# The topic feeds: the homepage's, and the one in each article's sidebar.
FOR_YOU = {"en": "For you", "es": "Para usted", "it": "Per Lei"}
# "Recommended pages" (what the visitor reads, what other readers read) below "Recommended for you".
READ_NEXT = {"en": "Read next", "es": "Para leer ahora", "it": "Da leggere ora"}
MORE_TO_READ = {"en": "More to read", "es": "Más para leer", "it": "Altre letture"}

# The onboarding quiz at the end of the homepage's sidebar: per language, its title and its questions' (question,
# several answers allowed, answers' (label, topics, traits)).
QUIZ_TITLE = {"en": "Tell us what you like", "es": "Díganos qué le gusta", "it": "Ci dica che cosa Le piace"}
QUIZ: dict[str, list[tuple[str, bool, list[tuple[str, list[str], dict[str, str]]]]]] = {
    "en": [
        (
            "What do you like to read about?",
            True,
            [("Sports", ["sports"], {}), ("Technology", ["technology"], {}), ("Travel", ["travel"], {})],
        ),
        (
            "When do you read us?",
            False,
            [("On my way to work", [], {"reading": "commute"}), ("At home, at leisure", [], {"reading": "leisure"})],
        ),
    ],
    "es": [
        (
            "¿Sobre qué le gusta leer?",
            True,
            [("Deportes", ["sports"], {}), ("Tecnología", ["technology"], {}), ("Viajes", ["travel"], {})],
        ),
        (
            "¿Cuándo nos lee?",
            False,
            [("De camino al trabajo", [], {"reading": "commute"}), ("En casa, con calma", [], {"reading": "leisure"})],
        ),
    ],
    "it": [
        (
            "Di che cosa Le piace leggere?",
            True,
            [("Sport", ["sports"], {}), ("Tecnologia", ["technology"], {}), ("Viaggi", ["travel"], {})],
        ),
        (
            "Quando ci legge?",
            False,
            [("Andando al lavoro", [], {"reading": "commute"}), ("A casa, con calma", [], {"reading": "leisure"})],
        ),
    ],
}
# The areas ``tailored_demo --history`` adds under today's picks, tested on 30 days of simulated visits.
# An optimize area (clicks decide; 20 % held out, who see the fallback): its label and variants' (label, body).
TEASER_LABEL = {"en": "Weekend teaser", "es": "Avance del fin de semana", "it": "Anteprima del weekend"}
TEASERS: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("Derby photos", "<p><strong>The derby in twelve photos</strong>: the goals, the rain, the fans.</p>"),
        ("Night train guide", "<p><strong>Sleep in Paris, wake up in Rome</strong>: our night train guide.</p>"),
        ("Museum nights", "<p><strong>Museums open late this weekend</strong>: five worth staying up for.</p>"),
    ],
    "es": [
        ("Fotos del derbi", "<p><strong>El derbi en doce fotos</strong>: los goles, la lluvia, la afición.</p>"),
        (
            "Guía de trenes nocturnos",
            "<p><strong>Dormir en París, despertar en Roma</strong>: nuestra guía de trenes nocturnos.</p>",
        ),
        (
            "Noches de museo",
            "<p><strong>Museos abiertos hasta tarde este fin de semana</strong>: cinco que merecen la pena.</p>",
        ),
    ],
    "it": [
        ("Foto del derby", "<p><strong>Il derby in dodici foto</strong>: i gol, la pioggia, i tifosi.</p>"),
        (
            "Guida ai treni notturni",
            "<p><strong>Dormire a Parigi, svegliarsi a Roma</strong>: la nostra guida ai treni notturni.</p>",
        ),
        (
            "Notti al museo",
            "<p><strong>Musei aperti fino a tardi questo weekend</strong>: cinque per cui fare tardi.</p>",
        ),
    ],
}
TEASER_FALLBACK = {
    "en": "<p>This weekend on Tailored News: sport, travel and culture.</p>",
    "es": "<p>Este fin de semana en Tailored News: deporte, viajes y cultura.</p>",
    "it": "<p>Questo weekend su Tailored News: sport, viaggi e cultura.</p>",
}
# An experiment (a 50/50 split judged on newsletter sign-ups): its label and the two variants' (label, body).
NEWSLETTER_GOAL = "newsletter_signup"
NEWSLETTER_LABEL = {"en": "Newsletter sign-up", "es": "Suscripción al boletín", "it": "Iscrizione alla newsletter"}
NEWSLETTER: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("Short invitation", "<p>Get our newsletter. <a href='#newsletter'>Sign up</a></p>"),
        (
            "With a sample issue",
            "<p>Every Friday: the week's five best stories, in five minutes. "
            "<a href='#sample'>Read last week's</a> or <a href='#newsletter'>sign up</a></p>",
        ),
    ],
    "es": [
        ("Invitación breve", "<p>Reciba nuestro boletín. <a href='#newsletter'>Suscribirse</a></p>"),
        (
            "Con un número de muestra",
            "<p>Cada viernes: las cinco mejores historias de la semana, en cinco minutos. "
            "<a href='#sample'>Lea el de la semana pasada</a> o <a href='#newsletter'>suscríbase</a></p>",
        ),
    ],
    "it": [
        ("Invito breve", "<p>Riceva la nostra newsletter. <a href='#newsletter'>Si iscriva</a></p>"),
        (
            "Con un numero di prova",
            "<p>Ogni venerdì: le cinque storie migliori della settimana, in cinque minuti. "
            "<a href='#sample'>Legga quella della settimana scorsa</a> o <a href='#newsletter'>si iscriva</a></p>",
        ),
    ],
}
