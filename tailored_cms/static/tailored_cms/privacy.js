/* tailored_cms privacy widgets: the consent banner and "Why am I seeing this?".
 *
 * Markup it enhances (rendered by the plugins, the same for every visitor in a consent state, so cacheable):
 * `[data-tailored-consent]` holding a GET form with Allow / No thanks buttons and, in data attributes, where the
 * beacon script and the events endpoint are; `[data-tailored-why]`, a <details> whose buttons
 * `[data-tailored-privacy=stop|reset|download|erase]` wait in `[data-tailored-why-actions]`. The page's tailored
 * areas carry `data-tailored-area-key`; `<body data-tailored-api>` says where the REST API is.
 *
 * The banner answers through consent/ (PUT, with X-CSRFToken) and, on Allow, starts the beacon without a reload.
 * The widget asks explain/ why each area shows what it shows when it is opened; its buttons use consent/,
 * preferences/ and me/. No dependencies, no inline script. Without JavaScript the banner's form leads to the
 * preferences page (to confirm with a POST) and the widget links there. Its texts come from Django's JavaScript
 * catalog ({% tailored_script_catalog %}, loaded before it), in English if that did not load. */
(function () {
  "use strict";

  var gettext = window.gettext || function (text) { return text; };
  // Named placeholders only (interpolate(format, {name: value}, true)), as translators may reorder them.
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\(\w+\)s/g, function (name) { return String(values[name.slice(2, -2)]); });
  };

  var apiRoot = document.body.getAttribute("data-tailored-api") || "/tailored/api/v1/";

  /* ---- Talking to the API -------------------------------------------------------------------------- */

  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|;\\s*)" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }

  function answerOf(response) {
    return response.json().catch(function () { return {}; }).then(function (answer) {
      if (!response.ok) {
        var detail = answer.detail || Object.keys(answer).map(function (k) { return k + ": " + answer[k]; }).join(" ");
        var failed = gettext("That did not work (error %(status)s). Please try again.");
        throw new Error(detail || interpolate(failed, { status: response.status }, true));
      }
      return answer;
    });
  }

  function get(path) {
    return fetch(apiRoot + path, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    }).then(answerOf);
  }

  /* The csrftoken cookie, else the X-CSRFToken header of a GET of the API (a site with CSRF_COOKIE_HTTPONLY or
     CSRF_USE_SESSIONS has no cookie JS can read). */
  var fetchedToken = "";
  function csrfToken() {
    var token = cookie("csrftoken") || fetchedToken;
    if (token) return Promise.resolve(token);
    var init = { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } };
    return fetch(apiRoot + "consent/", init).then(function (response) {
      fetchedToken = response.headers.get("X-CSRFToken") || cookie("csrftoken");
      return fetchedToken;
    });
  }

  function change(method, path, data) {
    return csrfToken().then(function (token) {
      var headers = { Accept: "application/json", "X-CSRFToken": token };
      var init = { method: method, credentials: "same-origin", cache: "no-store", headers: headers };
      if (data !== undefined) {
        headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(data);
      }
      return fetch(apiRoot + path, init).then(answerOf);
    });
  }

  /* ---- The beacon ------------------------------------------------------------------------------------ */

  /* The tag {% tailored_tracking %} would have written, from the banner's data attributes. */
  function startBeacon(banner) {
    if (window.tailored && window.tailored.resume) {
      window.tailored.resume(); // already on the page, stopped earlier
      return;
    }
    var src = banner.getAttribute("data-tailored-beacon-src");
    if (!src || document.querySelector("script[data-tailored-beacon]")) return;
    var script = document.createElement("script");
    script.src = src;
    script.defer = true;
    script.setAttribute("data-tailored-beacon", "");
    ["events", "batch", "max-props", "max-prop-bytes", "analytics", "matomo-dimension"].forEach(function (name) {
      var value = banner.getAttribute("data-tailored-" + name);
      if (value) script.setAttribute("data-tailored-" + name, value);
    });
    document.body.appendChild(script);
  }

  function stopBeacon() {
    if (window.tailored && window.tailored.stop) window.tailored.stop();
  }

  /* ---- Feedback ------------------------------------------------------------------------------------- */

  function announce(region, message, isError) {
    if (!region) return;
    region.classList.toggle("tailored-status-error", !!isError);
    region.textContent = ""; // so the same message said twice in a row is announced twice
    window.setTimeout(function () { region.textContent = message; }, 50);
  }

  function setBusy(container, busy) {
    container.querySelectorAll("button").forEach(function (button) { button.disabled = busy; });
  }

  /* ---- Consent banner ------------------------------------------------------------------------------- */

  function enhanceBanner(banner) {
    var form = banner.querySelector("form");
    if (!form || banner.hasAttribute("data-tailored-ready")) return;
    banner.setAttribute("data-tailored-ready", "");
    var status = banner.querySelector("[data-tailored-status]");
    var submitter = null;
    form.addEventListener("click", function (event) {
      var button = event.target.closest("[type=submit]");
      if (button) submitter = button;
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = event.submitter || submitter;
      var allow = !!button && button.value === "yes";
      setBusy(form, true);
      change("PUT", "consent/", { tracking: allow })
        .then(function (answer) {
          form.hidden = true;
          if (answer.allowed) {
            startBeacon(banner);
            announce(status, gettext("Thank you. What you read here now helps tailor this site to you."));
          } else {
            stopBeacon();
            announce(status, gettext("Understood: nothing you read here is noted."));
          }
          addCloseButton(banner);
        })
        .catch(function (error) {
          setBusy(form, false);
          announce(status, error.message, true);
        });
    });
  }

  function addCloseButton(banner) {
    var close = document.createElement("button");
    close.type = "button";
    close.className = "tailored-consent-close secondary";
    // Translators: closes the consent banner once the visitor answered.
    close.textContent = gettext("Close");
    close.addEventListener("click", function () { banner.hidden = true; });
    banner.appendChild(close);
    close.focus(); // the buttons the focus was on are gone
  }

  /* ---- The banner's room ---------------------------------------------------------------------------- */

  /* A banner the site shows fixed (or sticky) over the page takes room of its own: how much of the window it
     covers goes into --tailored-consent-bottom (or -top) on <html>, which customize.css turns into the body's
     padding and the scroll padding, kept up to date as it changes size (ResizeObserver) or goes. And in the
     keyboard order it comes first (after a skip link), where a visitor meets it, not after the footer. */
  function giveBannerRoom(banner) {
    var root = document.documentElement;
    function overlays() {
      var position = window.getComputedStyle(banner).position;
      return !banner.hidden && banner.isConnected && (position === "fixed" || position === "sticky");
    }
    function measure() {
      var bottom = 0;
      var top = 0;
      if (overlays()) {
        var box = banner.getBoundingClientRect();
        if (box.height > 0) {
          if (box.top > window.innerHeight / 2) bottom = Math.ceil(window.innerHeight - box.top);
          else top = Math.ceil(box.bottom);
        }
      }
      root.style.setProperty("--tailored-consent-bottom", bottom + "px");
      root.style.setProperty("--tailored-consent-top", top + "px");
    }
    // Not for an editor: the CMS's toolbar and structure board expect each plugin where they put it.
    if (overlays() && !document.querySelector("#cms-top, .cms-toolbar")) {
      var first = document.body.firstElementChild;
      while (first && first.matches("script, style, link, #cms-top, .cms")) first = first.nextElementSibling;
      var anchor = first && first.matches("a[href^='#']") ? first.nextSibling : first;
      if (banner.parentNode !== document.body || banner.previousElementSibling !== first) {
        document.body.insertBefore(banner, anchor);
      }
    }
    if (window.ResizeObserver) new window.ResizeObserver(measure).observe(banner);
    window.addEventListener("resize", measure);
    measure();
    // Where scroll padding is not enough (a control already in view under the banner), scroll it clear.
    document.addEventListener("focusin", function (event) {
      if (!overlays() || banner.contains(event.target)) return;
      var box = banner.getBoundingClientRect();
      var target = event.target.getBoundingClientRect();
      if (target.bottom > box.top && target.top < box.bottom) {
        if (box.top > window.innerHeight / 2) window.scrollBy(0, target.bottom - box.top + 8);
        else window.scrollBy(0, target.top - box.bottom - 8);
      }
    });
  }

  /* ---- "Why am I seeing this?" ---------------------------------------------------------------------- */

  function areaKeys() {
    var keys = [];
    document.querySelectorAll("[data-tailored-area-key]").forEach(function (area) {
      var key = area.getAttribute("data-tailored-area-key");
      if (key && keys.indexOf(key) === -1) keys.push(key);
    });
    return keys;
  }

  function paragraph(text, className) {
    var p = document.createElement("p");
    if (className) p.className = className;
    p.textContent = text;
    return p;
  }

  function showExplanation(box, answer) {
    box.textContent = "";
    if (!answer.areas.length) {
      box.appendChild(paragraph(gettext("Nothing on this page is tailored to you.")));
    } else {
      var list = document.createElement("ul");
      list.className = "tailored-why-list";
      answer.areas.forEach(function (area, index) {
        var item = document.createElement("li");
        item.setAttribute("data-tailored-why-area", area.key);
        var title = document.createElement("strong");
        // Translators: %(number)s counts the tailored parts of the page, in the order they come.
        title.textContent = answer.areas.length > 1
          ? interpolate(gettext("Tailored part %(number)s of this page"), { number: index + 1 }, true)
          : gettext("A tailored part of this page");
        item.appendChild(title);
        var shown = area.shown.map(function (variant) { return variant.text; }).filter(Boolean);
        item.appendChild(paragraph(shown.length ? shown.join(" ") : gettext("Nothing is shown here for you.")));
        item.appendChild(
          paragraph(area.reasons.map(function (reason) { return reason.text; }).join(" "), "tailored-why-reason")
        );
        list.appendChild(item);
      });
      box.appendChild(list);
    }
    box.appendChild(
      paragraph(
        answer.tracking
          ? gettext("What you read here is noted, to tailor this site to you.")
          : gettext("What you read here is not noted."),
        "tailored-why-tracking"
      )
    );
  }

  var MESSAGES = {
    stop: gettext("Personalization is off: nothing you read here is noted any more. Your own choices still apply."),
    reset: gettext("Your choices are back to the site's defaults. Reload the page to see it as everyone does."),
    erase: gettext("Your data was erased: this site no longer knows you."),
  };
  var CALLS = {
    stop: ["PUT", "consent/", { tracking: false }],
    reset: ["DELETE", "preferences/", undefined],
    erase: ["DELETE", "me/", undefined],
  };

  function enhanceWhy(why) {
    if (why.hasAttribute("data-tailored-ready")) return;
    why.setAttribute("data-tailored-ready", "");
    var box = why.querySelector("[data-tailored-why-areas]");
    var actions = why.querySelector("[data-tailored-why-actions]");
    var status = why.querySelector("[data-tailored-status]");
    why.querySelectorAll("[data-tailored-why-nojs]").forEach(function (element) { element.hidden = true; });
    if (actions) actions.hidden = false;
    // With the site's own consent tool in charge (consent_bridges.js), consent is changed there: a "Stop" here would
    // be undone by the tool's standing decision on the next page.
    var stop = why.querySelector("[data-tailored-privacy=stop]");
    if (stop && document.querySelector("script[data-tailored-consent-bridge]")) stop.hidden = true;

    function load() {
      var keys = areaKeys();
      var answered = keys.length
        ? get("explain/?areas=" + encodeURIComponent(keys.join(",")))
        : get("consent/").then(function (consent) { return { areas: [], tracking: consent.allowed }; });
      return answered
        .then(function (answer) { if (box) showExplanation(box, answer); })
        .catch(function (error) { announce(status, error.message, true); });
    }

    why.addEventListener("toggle", function () { if (why.open) load(); });
    if (why.open) load();

    if (!actions) return;
    actions.addEventListener("click", function (event) {
      var control = event.target.closest("[data-tailored-privacy]");
      if (!control) return;
      var action = control.getAttribute("data-tailored-privacy");
      if (action === "download") {
        announce(status, gettext("Your data is being downloaded as tailored-data.json."));
        return; // the link does the rest
      }
      var call = CALLS[action];
      if (!call) return;
      if (action === "erase" && !window.confirm(control.getAttribute("data-tailored-confirm") || gettext("Erase your data?"))) {
        return;
      }
      setBusy(actions, true);
      change(call[0], call[1], call[2])
        .then(function () {
          if (action !== "reset") stopBeacon();
          announce(status, MESSAGES[action]);
          return load();
        })
        .catch(function (error) { announce(status, error.message, true); })
        .then(function () { setBusy(actions, false); });
    });
  }

  function start() {
    document.querySelectorAll("[data-tailored-consent]").forEach(function (banner) {
      enhanceBanner(banner);
      giveBannerRoom(banner);
    });
    document.querySelectorAll("[data-tailored-why]").forEach(enhanceWhy);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
