"""Edge mode through a real Varnish running the shipped VCL: the demo's tailored homepage against a plain page.

A realistic mix: 70 % of the requests come from first-time visitors (no cookie), 30 % from a pool of returning
visitors with choices (their visitor and key cookies, as their browsers would send them). Both pages get the same
mix, in rounds that alternate, so the machine's speed of the moment is the same for both. Varnish's own counters
(``varnishstat``) give the hit ratio and how many requests reached the site.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
from string import Template

from cms.api import add_plugin, create_page
from django.core.management import call_command
from django.db import connection
from django.http import HttpResponse
from django.test import Client

from tailored_cms.conf import tailored_settings
from tailored_cms.edge import KEY_COOKIE
from tailored_cms.rules.active import publish_segments
from tailored_cms.rules.models import Segment
from tailored_cms.visitors.identity import set_visitor_cookie
from tailored_cms.visitors.models import Visitor
from tests.edge.varnish_server import VarnishServer

from .served import Served, load

HOME_URL, PLAIN_URL = "/", "/bench-edge-plain/"
VISITORS, FIRST_TIME = 200, 0.7  # returning visitors in the pool; share of requests from first-time visitors
ROUNDS, ROUND_SECONDS, CONNECTIONS = 6, 2, 8
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
COUNTERS = ("MAIN.client_req", "MAIN.cache_hit", "MAIN.cache_miss", "MAIN.backend_req")

WRK_SCRIPT = Template(
    """
local threads = {}
local cookies = {$cookies}
sent, answered, ok = 0, 0, 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + #threads)
end

function request()
  sent = sent + 1
  local headers = {["User-Agent"] = "$ua"}
  if math.random() >= $first_time then headers["Cookie"] = cookies[math.random(#cookies)] end
  return wrk.format("GET", nil, headers)
end
"""
)


def setup() -> None:
    """The demo site with its own segments (all of them on what an edge sees), and a page with no tailoring of the
    homepage's size."""
    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("tailored_demo", stdout=quiet)  # the demo's homepage, segments and articles
    Segment.objects.update(enabled=False)
    Segment.objects.filter(slug__in=["sports-fans", "tech-fans", "mobile", "returning"]).update(enabled=True)
    publish_segments()
    # As many bytes as the homepage a first-time visitor gets: the edge's work per byte is the same for both.
    size = len(Client().get(HOME_URL, HTTP_USER_AGENT=UA).content)
    page = create_page("Edge plain", "bench_plain.html", "en", slug=PLAIN_URL.strip("/"))
    content = page.get_content_obj("en").rescan_placeholders()["content"]
    add_plugin(content, "TextPlugin", "en", body="<p>" + "The same text for everyone. " * (size // 28) + "</p>")


def returning_visitors(rng: random.Random) -> list[str]:
    """Visitors with choices (a quarter of them tracked, with a visit count that makes them returning)."""
    cookies = []
    for _ in range(VISITORS):
        visitor = Visitor.objects.create(
            theme=rng.choice(["light", "dark", "high-contrast"]),
            layout=rng.choice(["one-column", "two-columns", "grid"]),
            topics=rng.sample(["sports", "technology", "culture", "science", "travel"], rng.randint(0, 2)),
            tracking_consent=True if rng.random() < 0.25 else None,
            visits=rng.randint(1, 4),
        )
        response = HttpResponse()
        set_visitor_cookie(response, str(visitor.pk))
        cookies.append(f"{tailored_settings.COOKIE_NAME}={response.cookies[tailored_settings.COOKIE_NAME].value}")
    return cookies


def with_keys(base: str, cookies: list[str]) -> list[str]:
    """Each visitor's cookies once the site gave them their key (a first page, through the edge)."""
    import urllib.request

    keyed = []
    for cookie in cookies:
        request = urllib.request.Request(base + HOME_URL, headers={"Cookie": cookie, "User-Agent": UA})
        with urllib.request.urlopen(request, timeout=30) as response:
            given = [h for h in response.headers.get_all("Set-Cookie") or [] if h.startswith(KEY_COOKIE + "=")]
        keyed.append(cookie + ("; " + given[0].split(";", 1)[0] if given else ""))
    return keyed


def counters(varnish: VarnishServer) -> dict[str, int]:
    output = subprocess.run(
        ["varnishstat", "-n", str(varnish.dir / "work"), "-1", "-j"], capture_output=True, text=True, check=True
    ).stdout
    data = json.loads(output)
    found = data.get("counters", data)
    return {name: int(found[name]["value"]) for name in COUNTERS}


def run() -> list[dict[str, str]]:
    setup()
    rng = random.Random(26)
    cookies = returning_visitors(rng)
    connection.close()  # gunicorn's workers use the database
    with Served(2, 2, env={"TAILORED_BENCH_EDGE": "1"}, connections_per_worker=CONNECTIONS) as served:
        varnish = VarnishServer(backend_port=served.port)
        varnish.start()
        try:
            keyed = with_keys(varnish.url, cookies)
            script = WRK_SCRIPT.substitute(
                cookies=", ".join(json.dumps(cookie) for cookie in keyed), ua=UA, first_time=FIRST_TIME
            )
            rates: dict[str, list[float]] = {HOME_URL: [], PLAIN_URL: []}
            seen = {name: 0 for name in COUNTERS}
            for round_number in range(ROUNDS + 1):  # the first round warms the cache up
                for url in (HOME_URL, PLAIN_URL):
                    before = counters(varnish)
                    result = load(varnish.url + url, script, seconds=ROUND_SECONDS, connections=CONNECTIONS)
                    if result.ok != result.answered:
                        raise AssertionError(f"{url}: {result.answered - result.ok} answers were not 200")
                    if round_number:
                        rates[url].append(result.requests_per_second)
                        if url == HOME_URL:
                            after = counters(varnish)
                            seen = {name: seen[name] + after[name] - before[name] for name in COUNTERS}
        finally:
            varnish.stop()
    home, plain = statistics.median(rates[HOME_URL]), statistics.median(rates[PLAIN_URL])
    ratios = statistics.median(h / p for h, p in zip(rates[HOME_URL], rates[PLAIN_URL], strict=True))
    hits = seen["MAIN.cache_hit"] / max(1, seen["MAIN.cache_hit"] + seen["MAIN.cache_miss"])
    per_thousand = 1000 * seen["MAIN.backend_req"] / max(1, seen["MAIN.client_req"])
    how = (
        f"served: gunicorn 2×2 gthread behind varnishd (tailored_cms/edge/tailored.vcl), wrk -c {CONNECTIONS}, "
        f"{int(FIRST_TIME * 100)} % first-time visitors, the others from {VISITORS} with choices; "
        f"{ROUNDS} rounds of {ROUND_SECONDS} s, the pages in turn"
    )
    return [
        {
            "figure": "edge: tailored homepage through Varnish, requests/s",
            "tailored": f"{home:,.0f}",
            "baseline": f"{plain:,.0f} (plain page)",
            "ratio": f"{ratios:.2f}x",
            "target": ">= 0.95x",
            "how": how,
        },
        {
            "figure": "edge: hit ratio, tailored homepage",
            "tailored": f"{hits:.1%}",
            "baseline": "-",
            "ratio": "-",
            "target": "-",
            "how": "varnishstat MAIN.cache_hit / (cache_hit + cache_miss) over the measured rounds",
        },
        {
            "figure": "edge: origin requests per 1,000 page views",
            "tailored": f"{per_thousand:.1f}",
            "baseline": "-",
            "ratio": "-",
            "target": "-",
            "how": "varnishstat MAIN.backend_req per MAIN.client_req × 1,000 (passes included)",
        },
    ]
