/* tailored_cms customization: the preferences panel saves without a reload, the widget board can be
 * rearranged with the mouse (drag and drop) or the keyboard (move up/down, hide/show buttons).
 *
 * Markup it enhances (rendered by the plugins): `[data-tailored-panel]` holding the no-JS preferences form,
 * `[data-tailored-board]` whose children `[data-tailored-widget]` carry `data-tailored-title`,
 * `data-tailored-hideable` and, when the visitor hid them, the `hidden` attribute; `[data-tailored-quiz]`, the
 * onboarding quiz's form, shown one question at a time. `<body data-tailored-api>`
 * (from {% tailored_body_attrs %}) says where the REST API is.
 *
 * No dependencies, no inline script (works under a strict Content-Security-Policy). Without JavaScript the
 * panel is a plain form posting to /tailored/preferences/ and the page still shows the visitor's choices.
 * Its texts come from Django's JavaScript catalog ({% tailored_script_catalog %}, loaded before it), in English
 * if that did not load. */
(function () {
  "use strict";

  var gettext = window.gettext || function (text) { return text; };
  // Named placeholders only (interpolate(format, {name: value}, true)), as translators may reorder them.
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\(\w+\)s/g, function (name) { return String(values[name.slice(2, -2)]); });
  };

  var body = document.body;
  var apiRoot = body.getAttribute("data-tailored-api") || "/tailored/api/v1/";
  var CHOICES = ["topics", "theme", "layout", "motion", "text_size"];

  /* ---- Talking to the API -------------------------------------------------------------------------- */

  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|;\\s*)" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }

  /* The API's answer (of preferences/, or of ``path``) as an object; a refusal becomes an Error saying why. */
  function call(method, data, token, path) {
    var headers = { Accept: "application/json" };
    if (token) headers["X-CSRFToken"] = token;
    var init = { method: method, credentials: "same-origin", cache: "no-store", headers: headers };
    if (data !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(data);
    }
    return fetch(apiRoot + (path || "preferences/"), init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (!response.ok) {
          var detail = answer.detail || Object.keys(answer).map(function (k) { return k + ": " + answer[k]; }).join(" ");
          throw new Error(detail || interpolate(gettext("Could not save (error %(status)s)."), { status: response.status }, true));
        }
        return answer;
      });
    });
  }

  /* The CSRF token: the panel's form field, else the csrftoken cookie, else the X-CSRFToken header of a GET of
     the API (a site with CSRF_COOKIE_HTTPONLY or CSRF_USE_SESSIONS has no cookie JS can read). */
  var fetchedToken = "";
  function csrfToken() {
    var field = document.querySelector("[data-tailored-panel] input[name=csrfmiddlewaretoken]");
    var token = (field && field.value) || cookie("csrftoken") || fetchedToken;
    if (token) return Promise.resolve(token);
    var init = { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } };
    return fetch(apiRoot + "preferences/", init).then(function (response) {
      fetchedToken = response.headers.get("X-CSRFToken") || cookie("csrftoken");
      return fetchedToken;
    });
  }

  function save(method, data) {
    return csrfToken().then(function (token) { return call(method, data, token); });
  }

  /* Saves run one after another, in the order the visitor made them: a slow answer can't undo a newer one. */
  var queue = Promise.resolve();
  function enqueue(task) {
    var done = queue.then(task);
    queue = done.catch(function () {});
    return done;
  }

  /* ---- Feedback ------------------------------------------------------------------------------------- */

  /* A polite live region, put in the page before its first message so screen readers announce that one. */
  function makeStatus() {
    var region = document.createElement("p");
    region.className = "tailored-status";
    region.setAttribute("data-tailored-status", "");
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    return region;
  }

  function announce(region, message, isError) {
    region.classList.toggle("tailored-status-error", !!isError);
    // Clear first, so the same message said twice in a row is announced twice.
    region.textContent = "";
    window.setTimeout(function () { region.textContent = message; }, 50);
  }

  /* ---- What the whole page shows -------------------------------------------------------------------- */

  /* The body's classes for the visitor's choices (see {% tailored_body_attrs %}): a theme, a layout, motion and
     text size; "auto" classes where they have chosen none, so CSS follows what their browser prefers. */
  function applyLook(prefs) {
    var theme = prefs.effective_theme || prefs.theme;
    var layout = prefs.effective_layout || prefs.layout;
    var prefixes = ["tailored-theme-", "tailored-layout-", "tailored-motion-", "tailored-text-"];
    var classes = body.className.split(/\s+/).filter(function (c) {
      return c && !prefixes.some(function (prefix) { return c.indexOf(prefix) === 0; });
    });
    if (theme) classes.push("tailored-theme-" + theme);
    if (!prefs.theme) classes.push("tailored-theme-auto");
    if (layout) classes.push("tailored-layout-" + layout);
    classes.push(prefs.motion ? "tailored-motion-" + prefs.motion : "tailored-motion-auto");
    if (prefs.text_size) classes.push("tailored-text-" + prefs.text_size);
    body.className = classes.join(" ");
    if (theme) body.setAttribute("data-tailored-theme", theme);
    if (layout) body.setAttribute("data-tailored-layout", layout);
  }

  /* Fetch this page again (now rendered for the new choices) and swap in its tailored parts. */
  function refresh(attributes) {
    var selector = attributes.map(function (attr) { return "[" + attr + "]"; }).join(",");
    if (!document.querySelector(selector)) return Promise.resolve();
    return fetch(window.location.href, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "text/html" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(interpolate(gettext("Could not refresh the page (error %(status)s)."), { status: response.status }, true));
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        attributes.forEach(function (attr) {
          document.querySelectorAll("[" + attr + "]").forEach(function (old) {
            var id = old.getAttribute(attr);
            var replacement = fresh.querySelector("[" + attr + '="' + CSS.escape(id) + '"]');
            if (!replacement) return;
            var node = document.importNode(replacement, true);
            if (attr === "data-tailored-board") {
              forgetBoard(old);
              old.replaceWith(node);
              enhanceBoard(node);
            } else {
              old.replaceWith(node);
            }
          });
        });
      });
  }

  /* ---- Preferences panel ---------------------------------------------------------------------------- */

  var panelSaves = 0; // how many panel saves were asked for: only the newest one refreshes the page

  function panelChoices(form) {
    var choices = {};
    if (form.querySelector("input[type=checkbox][name=topics]")) {
      choices.topics = [];
      form.querySelectorAll("input[type=checkbox][name=topics]:checked").forEach(function (box) {
        choices.topics.push(box.value);
      });
    }
    ["theme", "layout", "motion", "text_size"].forEach(function (name) {
      var radio = form.querySelector("input[type=radio][name=" + name + "]:checked");
      if (radio) choices[name] = radio.value;
    });
    return choices;
  }

  function syncPanels(prefs) {
    document.querySelectorAll("[data-tailored-panel] form").forEach(function (form) {
      form.querySelectorAll("input[type=checkbox][name=topics]").forEach(function (box) {
        box.checked = (prefs.topics || []).indexOf(box.value) !== -1;
      });
      ["theme", "layout", "motion", "text_size"].forEach(function (name) {
        // A theme not chosen is "" (as the device says), not the default it shows as; layouts have no such choice.
        var current = (name !== "theme" && prefs["effective_" + name]) || prefs[name] || "";
        form.querySelectorAll("input[type=radio][name=" + name + "]").forEach(function (radio) {
          radio.checked = radio.value === current;
        });
      });
    });
  }

  function enhancePanel(panel) {
    var form = panel.querySelector("form");
    if (!form || panel.hasAttribute("data-tailored-ready")) return;
    panel.setAttribute("data-tailored-ready", "");
    var status = panel.querySelector("[data-tailored-status]");
    if (!status) {
      status = makeStatus();
      form.parentNode.insertBefore(status, form.nextSibling);
    }
    // Every change is saved at once, so the Save button is only needed without JavaScript.
    var saveButton = form.querySelector("button[name=save]");
    if (saveButton) saveButton.hidden = true;

    function run(reset) {
      var number = ++panelSaves;
      enqueue(function () {
        // The form as it is now: a save queued behind this one sends the visitor's later clicks too.
        return (reset ? save("DELETE") : save("PATCH", panelChoices(form))).then(function (prefs) {
          var newest = number === panelSaves;
          applyLook(prefs);
          // Not while newer clicks wait to be saved: they would be unticked.
          if (newest) syncPanels(prefs);
          announce(status, reset ? gettext("Back to the site's defaults.") : gettext("Saved. The page now follows your choices."));
          // Only the newest save refreshes the page: the ones queued behind it would redo the work.
          if (!newest) return null;
          return refresh(
            reset
              ? ["data-tailored-area", "data-tailored-feed", "data-tailored-board"]
              : ["data-tailored-area", "data-tailored-feed"]
          );
        });
      }).catch(function (error) { announce(status, error.message, true); });
    }

    form.addEventListener("change", function (event) {
      if (CHOICES.indexOf(event.target.name) !== -1) run(false);
    });
    var submitter = null;
    form.addEventListener("click", function (event) {
      var button = event.target.closest("[type=submit]");
      if (button) submitter = button;
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = event.submitter || submitter;
      submitter = null;
      run(!!button && button.name === "reset");
    });
  }

  /* ---- Widget board --------------------------------------------------------------------------------- */

  var boards = new WeakMap(); // board element -> {tray, status}

  function widgetsOf(board) {
    return Array.prototype.filter.call(board.children, function (child) {
      return child.hasAttribute("data-tailored-widget");
    });
  }

  function visibleWidgetsOf(board) {
    return widgetsOf(board).filter(function (widget) { return !widget.hidden; });
  }

  function titleOf(widget) {
    return widget.getAttribute("data-tailored-title") || widget.getAttribute("data-tailored-widget");
  }

  /* The next visible widget before (-1) or after (+1) this one: moving past a hidden one would look like nothing. */
  function neighbour(widget, direction) {
    var sibling = widget;
    do {
      sibling = direction < 0 ? sibling.previousElementSibling : sibling.nextElementSibling;
    } while (sibling && (sibling.hidden || !sibling.hasAttribute("data-tailored-widget")));
    return sibling;
  }

  function saveArrangement(status) {
    var order = [];
    var hidden = [];
    document.querySelectorAll("[data-tailored-board]:not([data-tailored-editing])").forEach(function (board) {
      widgetsOf(board).forEach(function (widget) {
        var key = widget.getAttribute("data-tailored-widget");
        order.push(key);
        if (widget.hidden) hidden.push(key);
      });
    });
    return enqueue(function () { return save("PATCH", { widgets: { order: order, hidden: hidden } }); })
      .catch(function (error) { announce(status, error.message, true); });
  }

  function makeButton(label, text, action) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "tailored-widget-button";
    button.setAttribute("data-tailored-action", action);
    button.setAttribute("aria-label", label);
    button.title = label;
    button.textContent = text;
    return button;
  }

  function addControls(widget) {
    var named = { title: titleOf(widget) };
    var controls = document.createElement("div");
    controls.className = "tailored-widget-controls";
    controls.appendChild(makeButton(interpolate(gettext("Move %(title)s up"), named, true), "\u2191", "up"));
    controls.appendChild(makeButton(interpolate(gettext("Move %(title)s down"), named, true), "\u2193", "down"));
    if (widget.getAttribute("data-tailored-hideable") !== "false") {
      // Translators: a button that hides a widget of the page; its accessible name says which one.
      controls.appendChild(makeButton(interpolate(gettext("Hide %(title)s"), named, true), gettext("Hide"), "hide"));
    }
    widget.insertBefore(controls, widget.firstChild);
    widget.setAttribute("draggable", "true");
    widget.classList.add("tailored-widget-movable");
  }

  function addShowButton(tray, widget) {
    var label = interpolate(gettext("Show %(title)s"), { title: titleOf(widget) }, true);
    var button = makeButton(label, label, "show");
    button.setAttribute("data-tailored-show", widget.getAttribute("data-tailored-widget"));
    tray.querySelector(".tailored-hidden-widgets-buttons").appendChild(button);
    tray.hidden = false;
    return button;
  }

  function positionMessage(board, widget) {
    var visible = visibleWidgetsOf(board);
    return interpolate(
      gettext("%(title)s moved to position %(position)s of %(count)s."),
      { title: titleOf(widget), position: visible.indexOf(widget) + 1, count: visible.length },
      true
    );
  }

  function forgetBoard(board) {
    var parts = boards.get(board);
    if (!parts) return;
    parts.tray.remove();
    parts.status.remove();
    boards.delete(board);
  }

  function enhanceBoard(board) {
    if (board.hasAttribute("data-tailored-editing") || boards.has(board)) return;
    board.setAttribute("data-tailored-ready", "");

    var tray = document.createElement("div");
    tray.className = "tailored-hidden-widgets";
    tray.hidden = true;
    var label = document.createElement("p");
    label.className = "tailored-hidden-widgets-label";
    label.id = "tailored-hidden-" + board.getAttribute("data-tailored-board");
    // Translators: the label of the buttons that show hidden widgets again (see "Show it again from Hidden widgets").
    label.textContent = gettext("Hidden widgets:");
    var buttons = document.createElement("div");
    buttons.className = "tailored-hidden-widgets-buttons";
    buttons.setAttribute("role", "group");
    buttons.setAttribute("aria-labelledby", label.id);
    tray.appendChild(label);
    tray.appendChild(buttons);
    var status = makeStatus();
    board.parentNode.insertBefore(tray, board.nextSibling);
    board.parentNode.insertBefore(status, tray.nextSibling);
    boards.set(board, { tray: tray, status: status });

    widgetsOf(board).forEach(function (widget) {
      addControls(widget);
      if (widget.hidden) addShowButton(tray, widget);
    });

    board.addEventListener("click", function (event) {
      var control = event.target.closest("[data-tailored-action]");
      if (!control || !board.contains(control)) return;
      var widget = control.closest("[data-tailored-widget]");
      var action = control.getAttribute("data-tailored-action");
      var other;
      if (action === "up" || action === "down") {
        other = neighbour(widget, action === "up" ? -1 : 1);
        if (!other) {
          var first = action === "up";
          var where = first ? gettext("%(title)s is already first.") : gettext("%(title)s is already last.");
          announce(status, interpolate(where, { title: titleOf(widget) }, true));
          return;
        }
        board.insertBefore(widget, action === "up" ? other : other.nextSibling);
        control.focus(); // moving the element loses focus in some browsers
        announce(status, positionMessage(board, widget));
      } else if (action === "hide") {
        widget.hidden = true;
        addShowButton(tray, widget).focus();
        announce(status, interpolate(gettext("%(title)s hidden. Show it again from Hidden widgets."), { title: titleOf(widget) }, true));
      } else {
        return;
      }
      saveArrangement(status);
    });

    tray.addEventListener("click", function (event) {
      var button = event.target.closest("[data-tailored-show]");
      if (!button) return;
      var key = button.getAttribute("data-tailored-show");
      var widget = widgetsOf(board).filter(function (w) { return w.getAttribute("data-tailored-widget") === key; })[0];
      button.remove();
      tray.hidden = !tray.querySelector("[data-tailored-show]");
      if (widget) {
        widget.hidden = false;
        var hide = widget.querySelector("[data-tailored-action=hide]");
        if (hide) hide.focus();
        announce(status, interpolate(gettext("%(title)s shown again."), { title: titleOf(widget) }, true));
      }
      saveArrangement(status);
    });

    /* Drag and drop. While dragging, the widget under the pointer shows where the dragged one will land
     * (a bar before or after it); the page only changes on drop, so Escape or a drop elsewhere changes nothing. */
    var dragged = null;
    var mark = null; // {widget, after}
    function unmark() {
      if (mark) mark.widget.classList.remove("tailored-drop-before", "tailored-drop-after");
      mark = null;
    }
    function sideBySide() {
      // Some widgets share a row (a grid): left and right halves decide; else top and bottom halves.
      var tops = visibleWidgetsOf(board).map(function (w) { return Math.round(w.getBoundingClientRect().top); });
      return tops.some(function (top, index) { return tops.indexOf(top) !== index; });
    }
    var horizontal = false;
    board.addEventListener("dragstart", function (event) {
      var target = event.target.closest ? event.target.closest("[data-tailored-widget]") : null;
      if (!target || target.parentNode !== board) return;
      dragged = target;
      horizontal = sideBySide();
      board.setAttribute("data-tailored-axis", horizontal ? "x" : "y");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", titleOf(dragged));
      // Style it after the browser took its drag image, so the image isn't faded.
      window.setTimeout(function () { if (dragged) dragged.classList.add("tailored-dragging"); }, 0);
    });
    board.addEventListener("dragover", function (event) {
      if (!dragged) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      var over = event.target.closest ? event.target.closest("[data-tailored-widget]") : null;
      if (!over || over.parentNode !== board) return; // in a gap: keep the last mark
      if (over === dragged) { unmark(); return; }
      var box = over.getBoundingClientRect();
      var after = horizontal ? event.clientX > box.left + box.width / 2 : event.clientY > box.top + box.height / 2;
      if (mark && mark.widget === over && mark.after === after) return;
      unmark();
      mark = { widget: over, after: after };
      over.classList.add(after ? "tailored-drop-after" : "tailored-drop-before");
    });
    board.addEventListener("dragleave", function (event) {
      if (dragged && !board.contains(event.relatedTarget)) unmark();
    });
    board.addEventListener("drop", function (event) {
      if (!dragged) return;
      event.preventDefault();
      var widget = dragged;
      if (mark) {
        board.insertBefore(widget, mark.after ? mark.widget.nextSibling : mark.widget);
        unmark();
        announce(status, positionMessage(board, widget));
        saveArrangement(status);
      }
    });
    board.addEventListener("dragend", function () {
      if (!dragged) return;
      dragged.classList.remove("tailored-dragging");
      dragged = null;
      unmark();
    });
  }

  /* ---- Onboarding quiz ------------------------------------------------------------------------------ */

  /* Whether this browser is to see the quiz: the editor's setting (data-tailored-quiz-shown) and the quiz's
     cookie ("done" once answered or skipped, set by the server; "seen" once shown, for "first visit only"). */
  function quizWanted(section) {
    var shown = section.getAttribute("data-tailored-quiz-shown");
    var state = cookie("tailored_quiz_" + section.getAttribute("data-tailored-quiz"));
    if (shown === "always") return true;
    if (shown === "first-visit") return !state;
    return state !== "done";
  }

  /* One question at a time: Next moves to the next question and its legend takes the focus (a screen reader
     reads the question), the status region says which question it is; the last one's button saves. Saved
     through quiz/ (the server maps the answers to topics and traits), then the page follows like the panel's. */
  function enhanceQuiz(section) {
    var form = section.querySelector("form");
    if (!form || section.hasAttribute("data-tailored-ready")) return;
    section.setAttribute("data-tailored-ready", "");
    var id = section.getAttribute("data-tailored-quiz");
    if (!quizWanted(section)) {
      section.hidden = true;
      return;
    }
    if (section.getAttribute("data-tailored-quiz-shown") === "first-visit") {
      document.cookie = "tailored_quiz_" + id + "=seen; path=/; max-age=31536000; samesite=lax";
    }
    var questions = Array.prototype.slice.call(form.querySelectorAll("[data-tailored-quiz-question]"));
    var status = section.querySelector("[data-tailored-status]");
    var saveButton = form.querySelector("[data-tailored-quiz-save]");
    var title = section.querySelector(".tailored-quiz-title");
    var current = 0;
    var next = document.createElement("button");
    next.type = "button";
    next.className = "tailored-quiz-next";
    saveButton.parentNode.insertBefore(next, saveButton);
    saveButton.hidden = true;

    function show(index, focus) {
      current = index;
      questions.forEach(function (question, i) { question.hidden = i !== index; });
      next.textContent = index === questions.length - 1 ? gettext("Save my answers") : gettext("Next question");
      if (questions.length > 1) {
        announce(status, interpolate(gettext("Question %(number)s of %(count)s"), { number: index + 1, count: questions.length }, true));
      }
      if (focus) questions[index].querySelector("legend").focus();
    }

    function chosen() {
      var ids = [];
      form.querySelectorAll("[data-tailored-quiz-question] input:checked").forEach(function (input) {
        ids.push(parseInt(input.value, 10));
      });
      return ids;
    }

    function finish(skipped) {
      var body = { quiz: parseInt(id, 10), answers: skipped ? [] : chosen(), skipped: skipped };
      enqueue(function () {
        return csrfToken()
          .then(function (token) { return call("POST", body, token, "quiz/"); })
          .then(function (prefs) {
            report(skipped ? "quiz_skipped" : "quiz_finished");
            applyLook(prefs);
            syncPanels(prefs);
            form.hidden = true;
            if (title) {
              title.setAttribute("tabindex", "-1");
              title.focus();
            }
            announce(status, skipped ? gettext("Skipped. You can choose your topics at any time.") : gettext("Saved. The page now follows your answers."));
            return refresh(["data-tailored-area", "data-tailored-feed"]);
          });
      }).catch(function (error) { announce(status, error.message, true); });
    }

    /* What results count (the beacon's events, sent only where the visitor may be tracked). */
    function report(name) {
      if (window.tailored && window.tailored.track) window.tailored.track(name, { quiz: id });
    }
    var started = false;
    form.addEventListener("change", function () {
      if (!started) report("quiz_started");
      started = true;
    });

    function forward() {
      if (current < questions.length - 1) show(current + 1, true);
      else finish(false);
    }

    next.addEventListener("click", forward);
    form.addEventListener("submit", function (event) {
      event.preventDefault(); // Enter in a question goes forward; the Skip button skips
      var button = event.submitter;
      if (button && button.name === "skip") finish(true);
      else forward();
    });
    if (questions.length) show(0, false);
  }

  /* ---- The site's Customize link ------------------------------------------------------------------- */

  /* A link to the preferences page (the site's *Customize* link, the no-JS way) leads, on a page with a panel,
     to the panel: scrolled to, its title focused, so keyboard and screen reader users land there too. */
  function leadCustomizeLinksToPanel() {
    var panel = document.querySelector("[data-tailored-panel]");
    var form = panel && panel.querySelector("form[action]");
    if (!form) return;
    var preferences = new URL(form.getAttribute("action"), window.location.href);
    document.addEventListener("click", function (event) {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      var link = event.target.closest && event.target.closest("a[href]");
      if (!link || link.closest("[data-tailored-panel], [data-tailored-why], [data-tailored-consent], .tailored-consent-saved")) return;
      var url = new URL(link.href, window.location.href);
      if (url.origin !== preferences.origin || url.pathname !== preferences.pathname) return;
      event.preventDefault();
      var title = panel.querySelector(".tailored-panel-title") || panel;
      if (!title.hasAttribute("tabindex")) title.setAttribute("tabindex", "-1");
      var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      still = still || body.classList.contains("tailored-motion-reduced");
      title.scrollIntoView({ block: "start", behavior: still ? "auto" : "smooth" });
      title.focus({ preventScroll: true });
    });
  }

  function start() {
    document.querySelectorAll("[data-tailored-panel]").forEach(enhancePanel);
    document.querySelectorAll("[data-tailored-board]").forEach(enhanceBoard);
    document.querySelectorAll("[data-tailored-quiz]").forEach(enhanceQuiz);
    leadCustomizeLinksToPanel();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
