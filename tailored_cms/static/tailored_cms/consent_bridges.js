/* tailored_cms consent bridges: follow the consent tool the site already runs, instead of our own banner.
 *
 * {% tailored_tracking %} writes this script, for every visitor, when the site's CONSENT_SOURCE names its consent
 * tool: <script src=".../consent_bridges.js" defer data-tailored-consent-bridge="<source>"
 * data-tailored-consent-service data-tailored-consent-state data-tailored-consent-url data-tailored-beacon-src
 * data-tailored-events data-tailored-batch data-tailored-max-props data-tailored-max-prop-bytes>, and with
 * ANALYTICS data-tailored-analytics, data-tailored-matomo-dimension and data-tailored-analytics-service.
 *
 * A bridge reads the tool's decisions once the tool is there, and again each time the visitor changes their mind:
 * about tracking (personalization) and, with ANALYTICS, about measurement (the site's analytics being told what
 * the visitor was shown and clicked):
 *   tcf            IAB TCF v2.2: __tcfapi("addEventListener", 2, cb); tracking needs consent to purposes 1 (store
 *                  and access information on a device), 5 (create profiles to personalise content) and 6 (use
 *                  them to select personalised content), measurement to purposes 1 and 8 (measure content
 *                  performance), for vendors or for the publisher (tailored_cms is the site's own first-party
 *                  tool); where GDPR doesn't apply (gdprApplies false) it decides nothing
 *   consent-mode   Google Consent Mode v2: the gtag("consent", "default" | "update", {...}) commands in
 *                  window.dataLayer; tracking needs analytics_storage and personalization_storage "granted" in
 *                  the state after an "update" (a "default" alone is the state before the visitor chose),
 *                  measurement analytics_storage alone
 *   klaro          Klaro: klaro.getManager(), its consent to the service named data-tailored-consent-service
 *                  (tracking) and data-tailored-analytics-service (measurement) once the visitor confirmed it, and
 *                  its watcher ("saveConsents")
 *   cookieconsent  CookieConsent v3: CookieConsent.validConsent() and acceptedCategory(<the category named
 *                  data-tailored-consent-service>, or data-tailored-analytics-service for measurement), and the
 *                  window events cc:onConsent and cc:onChange
 *
 * A decision that differs from the one the page was rendered with (data-tailored-consent-state: tracked, ask or
 * not-tracked) is sent to consent/ (PUT {"tracking": true|false}, with X-CSRFToken), so the server and the next
 * pages follow it; the answer says whether the visitor may now be tracked (never with Sec-GPC or DNT), and the
 * beacon is started (tracking.js, added as {% tailored_tracking %} would write it) or stopped at once.
 *
 * Measurement stays on the page: tracking.js is told (tailored.measure), and added with data-tailored-stopped if
 * only measurement is allowed. Until the tool decides about it, measurement follows tracking. Never with Global
 * Privacy Control or Do Not Track: the browser's own signals, and the server's word (browser_opt_out, asked once
 * where the page can't tell: a page rendered for "not-tracked" may be a refusal or an opt-out).
 *
 * No dependencies, no inline script, nothing shown to the visitor (the site's tool does the talking), and it never
 * throws into the page. window.tailoredConsent.decide(allowed) and measure(allowed) are what each bridge calls: a
 * site with another tool may call them too. */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector("script[data-tailored-consent-bridge]");
  if (!script || (window.tailoredConsent && window.tailoredConsent.decide)) return;

  function data(name) {
    return script.getAttribute("data-tailored-" + name) || "";
  }

  var source = data("consent-bridge");
  var service = data("consent-service") || "tailored_cms";
  var analyticsService = data("analytics-service") || "analytics";
  var analytics = !!data("analytics"); // ANALYTICS names the site's analytics tools
  var consentUrl = data("consent-url");
  // What the server last decided: true (tracked), false (refused, or the browser opted out) or null (not asked).
  var state = data("consent-state");
  var current = state === "tracked" ? true : state === "not-tracked" ? false : null;
  var sending = null; // the decision on its way to the server, so the same one is not sent twice
  var next = null; // a decision made while another was on its way: sent after it

  /* ---- The beacon ------------------------------------------------------------------------------------------ */

  var wanted = current === true; // whether the beacon should run now

  /* tracking.js as {% tailored_tracking %} would write it; with ``stopped``, for measurement alone. */
  function addBeacon(stopped) {
    var src = data("beacon-src");
    if (!src || document.querySelector("script[data-tailored-beacon]")) return;
    var beacon = document.createElement("script");
    beacon.src = src;
    beacon.defer = true;
    beacon.setAttribute("data-tailored-beacon", "");
    if (stopped) beacon.setAttribute("data-tailored-stopped", "");
    ["events", "batch", "max-props", "max-prop-bytes", "analytics", "matomo-dimension"].forEach(function (name) {
      var value = data(name);
      if (value) beacon.setAttribute("data-tailored-" + name, value);
    });
    // Decided otherwise while it was loading: it follows as soon as it runs.
    beacon.addEventListener("load", function () {
      if (!window.tailored || !window.tailored.stop) return;
      if (wanted) window.tailored.resume();
      else window.tailored.stop();
      measureNow();
    });
    document.body.appendChild(beacon);
  }

  function startBeacon() {
    wanted = true;
    if (window.tailored && window.tailored.resume) window.tailored.resume(); // on the page already, stopped earlier
    else addBeacon(false);
    measureNow();
  }

  function stopBeacon() {
    wanted = false;
    if (window.tailored && window.tailored.stop) window.tailored.stop();
    measureNow();
  }

  /* ---- Measurement -------------------------------------------------------------------------------------------- */

  var measured = null; // the tool's decision about measurement: true, false or null (none yet)
  // Whether the browser asks not to be tracked: true, false, or null where the page can't tell (see above).
  var optedOut =
    navigator.globalPrivacyControl === true || navigator.doNotTrack === "1" ? true : state === "not-tracked" ? null : false;
  var askingOptOut = false;

  function measurementAllowed() {
    var allowed = measured !== null ? measured : wanted; // until the tool says, as tracking
    if (!analytics || !allowed || optedOut === true) return false;
    if (optedOut === null) {
      askOptOut();
      return false;
    }
    return true;
  }

  /* The server's word on Sec-GPC and DNT (consent/'s browser_opt_out), then measure accordingly. */
  function askOptOut() {
    if (askingOptOut) return;
    askingOptOut = true;
    fetch(consentUrl, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (answer) { optedOut = answer.browser_opt_out !== false; })
      .catch(function () { optedOut = true; }) // unknown: not measured on this page
      .then(function () {
        askingOptOut = false;
        measureNow();
      });
  }

  /* tracking.js told whether to measure now; added (stopped) if it isn't on the page and measurement is allowed. */
  function measureNow() {
    if (!analytics) return;
    var allowed = measurementAllowed();
    if (window.tailored && window.tailored.measure) window.tailored.measure(allowed);
    else if (allowed) addBeacon(!wanted);
  }

  /* The tool's decision about measurement: true (allowed), false (refused or withdrawn), null/undefined (none yet). */
  function measure(allowed) {
    if (allowed !== true && allowed !== false) return;
    measured = allowed;
    measureNow();
  }

  /* ---- Telling the server --------------------------------------------------------------------------------- */

  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|;\\s*)" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }

  /* The csrftoken cookie, else the X-CSRFToken header of a GET of consent/ (CSRF_COOKIE_HTTPONLY, CSRF_USE_SESSIONS). */
  function csrfToken() {
    var token = cookie("csrftoken");
    if (token) return Promise.resolve(token);
    return fetch(consentUrl, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) { return response.headers.get("X-CSRFToken") || cookie("csrftoken"); });
  }

  function send(allowed) {
    sending = allowed;
    if (!allowed) stopBeacon(); // withdrawal takes effect now, not when the server has answered
    return csrfToken()
      .then(function (token) {
        return fetch(consentUrl, {
          method: "PUT",
          credentials: "same-origin",
          cache: "no-store",
          headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": token },
          body: JSON.stringify({ tracking: allowed }),
        });
      })
      .then(function (response) {
        if (!response.ok) throw new Error("consent/ answered " + response.status);
        return response.json();
      })
      .then(function (answer) {
        current = allowed;
        optedOut = !!answer.browser_opt_out;
        if (answer.allowed && next !== false) startBeacon();
        else stopBeacon(); // refused, or Sec-GPC / DNT: the server's word is final
      })
      .catch(function (error) {
        if (window.console) window.console.warn("tailored_cms: the consent decision was not saved:", error);
      })
      .then(function () {
        sending = null;
        if (next !== null) {
          var waiting = next;
          next = null;
          decide(waiting);
        }
      });
  }

  /* The tool's decision: true (tracking allowed), false (refused or withdrawn), null/undefined (none yet). */
  function decide(allowed) {
    if (allowed !== true && allowed !== false) return;
    if (sending !== null) {
      next = allowed === sending ? null : allowed;
      if (!allowed) stopBeacon(); // a withdrawal never waits
      return;
    }
    if (allowed === current) {
      if (!allowed) stopBeacon();
      return;
    }
    send(allowed);
  }

  window.tailoredConsent = { decide: decide, measure: measure, source: source };

  /* ---- Waiting for the tool --------------------------------------------------------------------------------- */

  /* Call found() with what present() returns once it returns something: consent tools load async, often after us. */
  function whenPresent(present, found) {
    var waited = 0;
    var delay = 50;
    (function look() {
      var tool;
      try {
        tool = present();
      } catch (error) {
        tool = null;
      }
      if (tool) {
        found(tool);
        return;
      }
      if (waited > 60000) return; // a minute: the tool is not on this page
      waited += delay;
      window.setTimeout(look, delay);
      delay = Math.min(delay * 2, 1000);
    })();
  }

  /* A reader of the tool's decisions, {tracking, measurement} (each true, false or null), made safe to call. */
  function safely(read) {
    return function () {
      try {
        var decision = read.apply(null, arguments);
        if (!decision) return;
        decide(decision.tracking);
        measure(decision.measurement);
      } catch (error) {
        // a tool's oddity must never break the page
      }
    };
  }

  /* ---- The bridges ------------------------------------------------------------------------------------------ */

  var TCF_PURPOSES = { tracking: [1, 5, 6], measurement: [1, 8] };

  function tcfAllows(tcData, purposes) {
    var granted = function (consents) {
      return !!consents && purposes.every(function (purpose) { return consents[purpose] === true; });
    };
    return granted(tcData.purpose && tcData.purpose.consents) || granted(tcData.publisher && tcData.publisher.consents);
  }

  function tcfDecision(tcData) {
    if (!tcData || tcData.gdprApplies === false) return null; // GDPR doesn't apply: the site's CONSENT decides
    if (tcData.eventStatus !== "tcloaded" && tcData.eventStatus !== "useractioncomplete") return null;
    return {
      tracking: tcfAllows(tcData, TCF_PURPOSES.tracking),
      measurement: tcfAllows(tcData, TCF_PURPOSES.measurement),
    };
  }

  var CONSENT_MODE_TYPES = { tracking: ["analytics_storage", "personalization_storage"], measurement: ["analytics_storage"] };

  /* The gtag consent state in window.dataLayer: the decisions of the last "update", or null before any. */
  function consentModeState() {
    var layer = window.dataLayer;
    var types = {};
    var updated = false;
    if (!layer || !layer.length) return null;
    for (var i = 0; i < layer.length; i++) {
      var entry = layer[i];
      // gtag() pushes its arguments object: ["consent", "default" | "update", {analytics_storage: "granted"}]
      if (!entry || typeof entry !== "object" || entry[0] !== "consent" || !entry[2]) continue;
      if (entry[1] !== "default" && entry[1] !== "update") continue;
      if (entry[1] === "update") updated = true;
      for (var type in entry[2]) types[type] = entry[2][type];
    }
    if (!updated) return null;
    var granted = function (needed) { return needed.every(function (type) { return types[type] === "granted"; }); };
    return { tracking: granted(CONSENT_MODE_TYPES.tracking), measurement: granted(CONSENT_MODE_TYPES.measurement) };
  }

  var BRIDGES = {
    tcf: function () {
      whenPresent(
        function () { return typeof window.__tcfapi === "function" && window.__tcfapi; },
        function (tcfapi) {
          tcfapi("addEventListener", 2, safely(function (tcData, success) {
            return success ? tcfDecision(tcData) : null;
          }));
        }
      );
    },

    "consent-mode": function () {
      window.dataLayer = window.dataLayer || [];
      var layer = window.dataLayer;
      var push = layer.push;
      // Each later gtag("consent", "update", ...) goes through push (gtag.js and GTM keep the one they find).
      layer.push = function () {
        var result = push.apply(layer, arguments);
        safely(consentModeState)();
        return result;
      };
      safely(consentModeState)();
    },

    klaro: function () {
      whenPresent(
        function () { return window.klaro && window.klaro.getManager && window.klaro.getManager(); },
        function (manager) {
          var read = function () {
            if (!manager.confirmed) return null;
            return { tracking: !!manager.getConsent(service), measurement: !!manager.getConsent(analyticsService) };
          };
          manager.watch({
            update: function (_manager, name) {
              if (name === "saveConsents" || name === "applyConsents") safely(read)();
            },
          });
          safely(read)();
        }
      );
    },

    cookieconsent: function () {
      var read = function () {
        var tool = window.CookieConsent;
        if (!tool || !tool.validConsent()) return null;
        return { tracking: !!tool.acceptedCategory(service), measurement: !!tool.acceptedCategory(analyticsService) };
      };
      window.addEventListener("cc:onConsent", safely(read));
      window.addEventListener("cc:onChange", safely(read));
      whenPresent(function () { return window.CookieConsent && window.CookieConsent.validConsent(); }, safely(read));
    },
  };

  if (BRIDGES[source]) BRIDGES[source]();
})();
