/* tailored_cms beacon: clicks on tailored content, time on page and custom events, sent in batches to the
 * events endpoint. Only on pages of visitors who may be tracked: {% tailored_tracking %} writes
 * <script src=".../tracking.js" defer data-tailored-beacon data-tailored-events="/tailored/api/v1/events/"
 * data-tailored-batch data-tailored-max-props data-tailored-max-prop-bytes> only then (the last three: the
 * endpoint's limits), and the consent banner adds the same tag after the visitor says yes.
 *
 * What it sends (POST {"events": [{id, name, ts, props, path}]}):
 *   impression    one per tailored area shown ([data-tailored-area-key][data-tailored-path]), when the page
 *                 loads and when an area is swapped in (customize.js after a choice): props area (its key),
 *                 variants (the keys of the variants shown, best first; [""] if it shows nothing), paths
 *                 (what put each there: customized, personalized, optimized, holdout or fallback) and language
 *                 (the page's, as the server wrote it in data-tailored-language; left out if empty)
 *   click         a click inside a variant ([data-tailored-variant]) or a widget ([data-tailored-widget]);
 *                 props: variant (its key), area (the area's key), path (the variant's), language (the
 *                 area's), widget, link (the path of the link clicked, no query)
 *   <name>        a click inside [data-tailored-track="<name>"] (an empty value means "click"), with the JSON
 *                 object of its data-tailored-props besides the props above
 *   time_on_page  {seconds, path}: the time the page was visible, sent when it is hidden or left
 *   page_view     under EDGE_MODE only, where the tag writes the page's path in data-tailored-page-view: once, when
 *                 the page loads, with that path and props referrer (document.referrer) and the address's
 *                 utm_source, utm_medium, utm_campaign; the site then counts no page view itself (a page a shared
 *                 cache serves never reaches it), and finds the page's topics from the path
 *   tailored.track(name, props)   an event of the page's own script
 *
 * Events wait in memory and go out every 2 s, when 20 are waiting, and when the page is hidden or left, with
 * navigator.sendBeacon (a text/plain JSON string) or else fetch(..., {keepalive: true}). Once the endpoint says
 * the visitor may not be tracked (tracking: false) or refuses a batch (4xx), nothing more is sent.
 *
 * The site's analytics (ANALYTICS: data-tailored-analytics="datalayer matomo events", and
 * data-tailored-matomo-dimension): the same impressions and clicks on variants, one per variant shown or clicked,
 * with its area's key, its own key ("" where an area shows nothing) and its path, go to
 *   datalayer     window.dataLayer.push({event: "tailored_impression" | "tailored_click", tailored_area,
 *                 tailored_variant, tailored_path})
 *   matomo        window._paq: ["setCustomDimension", <dimension>, path] (with a dimension), ["trackEvent",
 *                 "tailored_cms", "impression" | "click", "<area>/<variant>"], ["deleteCustomDimension", <dimension>]
 *   events        a CustomEvent "tailored:impression" | "tailored:click" on the area's element, bubbling, its
 *                 detail {area, variant, path}
 * only while measuring is allowed: with the built-in banner, while the beacon runs (the same consent); with the
 * site's consent tool, when consent_bridges.js says so (tailored.measure(true)), for the tool's measurement purpose.
 * The areas on the page when it is allowed are reported then.
 *
 * window.tailored: track(name, props) -> true if queued; flush(); stop() (consent withdrawn); resume();
 * measure(allowed). Only present where the visitor is tracked (or measured: the consent bridge adds this script
 * with data-tailored-stopped), so a page's script checks: if (window.tailored && tailored.track) … 
 * No dependencies, no inline script (a strict Content-Security-Policy works), and it never throws into the page. */
(function () {
  "use strict";

  if (window.tailored && window.tailored.track) return; // already running on this page

  var script = document.currentScript || document.querySelector("script[data-tailored-beacon]");
  var url = script && script.getAttribute("data-tailored-events");
  if (!url || !window.JSON) return;

  function limit(name, fallback) {
    var value = parseInt(script.getAttribute("data-tailored-" + name), 10);
    return value > 0 ? value : fallback;
  }

  // The endpoint's limits (the site's settings, written by the tag), so a batch is never refused for its size.
  var PER_REQUEST = limit("batch", 50); // EVENTS_MAX_BATCH
  var MAX_PROPS = limit("max-props", 20); // EVENT_MAX_PROPS
  var MAX_PROPS_BYTES = limit("max-prop-bytes", 2048); // EVENT_MAX_PROP_BYTES
  var FLUSH_AFTER_MS = 2000;
  var FLUSH_AT = Math.min(20, PER_REQUEST); // events waiting
  var NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

  var queue = [];
  var timer = null;
  // Loaded by the consent bridge for measurement alone: the beacon waits for resume().
  var stopped = script.hasAttribute("data-tailored-stopped");
  // Measuring follows the beacon's consent with the built-in banner; with the site's consent tool, its bridge says.
  var bridged = !!document.querySelector("script[data-tailored-consent-bridge]");
  var measuring = !bridged && !stopped;

  /* ---- Events ------------------------------------------------------------------------------------------- */

  function uuid() {
    var cryptography = window.crypto;
    if (cryptography && cryptography.randomUUID) return cryptography.randomUUID(); // secure contexts only
    var bytes = new Uint8Array(16);
    if (cryptography && cryptography.getRandomValues) cryptography.getRandomValues(bytes);
    else for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function byteLength(text) {
    return window.TextEncoder ? new TextEncoder().encode(text).length : unescape(encodeURIComponent(text)).length;
  }

  /* Props the endpoint accepts (a JSON object, at most 20 keys and 2 KB), or null. */
  function acceptableProps(props) {
    if (props === undefined || props === null) return {};
    if (typeof props !== "object" || Array.isArray(props)) return null;
    var text = JSON.stringify(props); // throws on a cycle: caught by the caller
    if (Object.keys(props).length > MAX_PROPS || byteLength(text) > MAX_PROPS_BYTES) return null;
    return JSON.parse(text); // a copy, as it is now: later changes by the page don't alter what is sent
  }

  /* Queue an event; true if it will be sent. Never throws. */
  function track(name, props) {
    try {
      if (stopped || typeof name !== "string" || !NAME.test(name) || name === "page_view") return false;
      var clean = acceptableProps(props);
      if (clean === null) return false;
      enqueue(name, clean, location.pathname);
      return true;
    } catch (error) {
      return false;
    }
  }

  function enqueue(name, props, path) {
    queue.push({ id: uuid(), name: name, ts: new Date().toISOString(), props: props, path: path });
    if (queue.length >= FLUSH_AT) flush();
    else if (!timer) timer = window.setTimeout(flush, FLUSH_AFTER_MS);
  }

  /* The page view, where the page asks for it (EDGE_MODE): what the site would have read of the request. */
  function sendPageView() {
    var path = script.getAttribute("data-tailored-page-view");
    if (!path || stopped) return;
    try {
      var props = {};
      if (document.referrer) props.referrer = document.referrer.slice(0, 500);
      var params = new URLSearchParams(location.search);
      ["utm_source", "utm_medium", "utm_campaign"].forEach(function (param) {
        if (params.get(param)) props[param] = params.get(param).slice(0, 200);
      });
      enqueue("page_view", props, path);
    } catch (error) {
      // never break the page
    }
  }

  /* ---- Sending -------------------------------------------------------------------------------------------- */

  function flush() {
    if (timer) {
      window.clearTimeout(timer);
      timer = null;
    }
    while (queue.length && !stopped) send(queue.splice(0, PER_REQUEST));
    queue = [];
  }

  function send(batch) {
    var body = JSON.stringify({ events: batch });
    try {
      // A string is sent as text/plain: no CORS preflight, and the browser delivers it even as the page goes.
      if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
    } catch (error) {
      // fall through to fetch
    }
    if (!window.fetch) return;
    window
      .fetch(url, {
        method: "POST",
        body: body,
        keepalive: true,
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
      })
      .then(function (response) {
        if (response.status >= 400 && response.status < 500) {
          stop();
          return null;
        }
        return response.json().then(function (answer) {
          if (answer && answer.tracking === false) stop();
        });
      })
      .catch(function () {}); // offline or a server error: these events are lost, the page is unaffected
  }

  function stop() {
    stopped = true;
    if (!bridged) measuring = false;
    queue = [];
    visibleSince = null; // time while not tracked is not counted
    if (timer) window.clearTimeout(timer);
    timer = null;
  }

  /* After stop(), when the visitor agrees again on this page (the consent banner, the consent bridge). The areas
     on the page that were not reported yet are reported now. */
  function resume() {
    stopped = false;
    if (!bridged) measuring = true;
    if (document.visibilityState !== "hidden" && visibleSince === null) visibleSince = Date.now();
    reportAreasIn(document);
  }

  /* Whether the site's analytics may be told (the consent bridge: the tool's measurement purpose). */
  function measure(allowed) {
    var was = measuring;
    measuring = allowed === true;
    // Only when it changes: a tool may say it again from inside a report (Consent Mode reads each dataLayer push).
    if (measuring && !was) reportAreasIn(document);
  }

  /* ---- Clicks --------------------------------------------------------------------------------------------- */

  function linkOf(element) {
    var link = element.closest("a[href]");
    if (!link) return "";
    var target = new URL(link.href, location.href);
    if (target.protocol !== "http:" && target.protocol !== "https:") return target.protocol; // mailto:, tel:
    return target.origin === location.origin ? target.pathname : target.origin + target.pathname;
  }

  function customProps(element) {
    var raw = element.getAttribute("data-tailored-props");
    if (!raw) return {};
    try {
      var props = JSON.parse(raw);
      return props && typeof props === "object" && !Array.isArray(props) ? props : {};
    } catch (error) {
      return {};
    }
  }

  function onClick(event) {
    try {
      var target = event.target && event.target.nodeType === 1 ? event.target : event.target.parentElement;
      // The board's own buttons, editors' labels and the privacy widgets are not interest in content.
      if (!target || target.closest("[data-tailored-action], [data-tailored-editor-label], [data-tailored-why], [data-tailored-consent]")) return;
      var marked = target.closest("[data-tailored-track]");
      var variant = target.closest("[data-tailored-variant]");
      var widget = target.closest("[data-tailored-widget]");
      if (!marked && !variant && !widget) return;
      var props = marked ? customProps(marked) : {};
      var area = target.closest("[data-tailored-area-key]");
      if (variant) props.variant = variant.getAttribute("data-tailored-variant");
      var path = variant && variant.getAttribute("data-tailored-path");
      if (path) props.path = path; // what put the variant there: results count the click by it
      if (area) props.area = area.getAttribute("data-tailored-area-key");
      var language = area && area.getAttribute("data-tailored-language");
      if (language) props.language = language;
      if (widget) props.widget = widget.getAttribute("data-tailored-widget");
      var link = linkOf(target);
      if (link) props.link = link;
      track((marked && marked.getAttribute("data-tailored-track")) || "click", props);
      if (variant && area) tell("click", area, props.variant, path || area.getAttribute("data-tailored-path"));
    } catch (error) {
      // never break the page's own click handling
    }
  }

  /* ---- Impressions --------------------------------------------------------------------------------------- */

  var AREA = "[data-tailored-area-key][data-tailored-path]"; // an area as visitors get it (not in edit mode)

  /* True the first time ``area`` is reported to ``whom`` ("beacon" or "analytics"): each element once to each. */
  function firstReport(area, whom) {
    var reported = area.tailoredReported || (area.tailoredReported = {});
    if (reported[whom]) return false;
    reported[whom] = true;
    return true;
  }

  /* One impression per area element shown: its variants and the path that put each there. */
  function reportArea(area) {
    if (area.closest("[hidden]")) return; // inside a widget the visitor hid: not seen
    var toBeacon = !stopped && firstReport(area, "beacon");
    var toAnalytics = measuring && firstReport(area, "analytics");
    if (!toBeacon && !toAnalytics) return;
    var variants = [];
    var paths = [];
    area.querySelectorAll("[data-tailored-variant]").forEach(function (variant) {
      if (variant.closest("[data-tailored-area-key]") !== area) return; // a nested area's
      variants.push(variant.getAttribute("data-tailored-variant"));
      paths.push(variant.getAttribute("data-tailored-path") || area.getAttribute("data-tailored-path"));
    });
    if (!variants.length) {
      variants.push(""); // nothing shown: still a view of the area (a holdout's without a fallback)
      paths.push(area.getAttribute("data-tailored-path"));
    }
    var props = { area: area.getAttribute("data-tailored-area-key"), variants: variants, paths: paths };
    var language = area.getAttribute("data-tailored-language");
    if (language) props.language = language;
    if (toBeacon) track("impression", props);
    if (toAnalytics) variants.forEach(function (variant, i) { tell("impression", area, variant, paths[i]); });
  }

  function reportAreasIn(root) {
    try {
      if (root.matches && root.matches(AREA)) reportArea(root);
      if (root.querySelectorAll) root.querySelectorAll(AREA).forEach(reportArea);
    } catch (error) {
      // never break the page
    }
  }

  /* ---- The site's analytics ------------------------------------------------------------------------------ */

  var TARGETS = (script.getAttribute("data-tailored-analytics") || "").split(/\s+/).filter(Boolean);
  var DIMENSION = parseInt(script.getAttribute("data-tailored-matomo-dimension"), 10) || 0;

  var ANALYTICS = {
    datalayer: function (kind, element, shown) {
      window.dataLayer = window.dataLayer || [];
      window.dataLayer.push({
        event: "tailored_" + kind,
        tailored_area: shown.area,
        tailored_variant: shown.variant,
        tailored_path: shown.path,
      });
    },
    matomo: function (kind, element, shown) {
      var paq = (window._paq = window._paq || []);
      // Set for this event alone: Matomo would otherwise send it with every later request of the page.
      if (DIMENSION) paq.push(["setCustomDimension", DIMENSION, shown.path]);
      paq.push(["trackEvent", "tailored_cms", kind, shown.variant ? shown.area + "/" + shown.variant : shown.area]);
      if (DIMENSION) paq.push(["deleteCustomDimension", DIMENSION]);
    },
    events: function (kind, element, shown) {
      element.dispatchEvent(new CustomEvent("tailored:" + kind, { bubbles: true, detail: shown }));
    },
  };

  /* What the visitor was shown or clicked ("impression" or "click"), to each of the site's analytics tools. */
  function tell(kind, area, variant, path) {
    if (!measuring) return;
    var shown = { area: area.getAttribute("data-tailored-area-key"), variant: variant || "", path: path || "" };
    TARGETS.forEach(function (target) {
      try {
        if (ANALYTICS[target]) ANALYTICS[target](kind, area, shown);
      } catch (error) {
        // one tool's failure neither stops the others nor breaks the page
      }
    });
  }

  sendPageView();
  reportAreasIn(document);
  if (window.MutationObserver) {
    // Areas swapped in later (customize.js re-renders them for new choices) are new impressions.
    new MutationObserver(function (mutations) {
      mutations.forEach(function (mutation) {
        mutation.addedNodes.forEach(function (node) {
          if (node.nodeType === 1) reportAreasIn(node);
        });
      });
    }).observe(document.documentElement, { childList: true, subtree: true });
  }

  /* ---- Time on page --------------------------------------------------------------------------------------- */

  var visibleSince = stopped || document.visibilityState === "hidden" ? null : Date.now();

  function reportTime() {
    if (visibleSince === null) return;
    var seconds = Math.round((Date.now() - visibleSince) / 1000);
    visibleSince = null;
    if (seconds >= 1) track("time_on_page", { seconds: Math.min(seconds, 86400), path: location.pathname });
  }

  function leaving() {
    reportTime();
    flush();
  }

  document.addEventListener("click", onClick, true); // capture: a handler that stops the click can't hide it
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") leaving();
    else if (visibleSince === null) visibleSince = Date.now();
  });
  window.addEventListener("pagehide", leaving);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && visibleSince === null) visibleSince = Date.now(); // back from the back/forward cache
  });

  window.tailored = window.tailored || {};
  window.tailored.track = track;
  window.tailored.flush = flush;
  window.tailored.stop = stop;
  window.tailored.resume = resume;
  window.tailored.measure = measure;
})();
