/* tailored_cms customization: the preferences panel saves without a reload, the widget board can be
 * rearranged with the mouse (drag and drop) or the keyboard (move up/down, hide/show buttons).
 * No dependencies, no inline script (works under a strict Content-Security-Policy). Without JavaScript the
 * panel is a plain form posting to /tailored/preferences/ and the page still shows the visitor's choices. */
(function () {
  "use strict";

  var body = document.body;
  var apiRoot = body.getAttribute("data-tailored-api") || "/tailored/api/v1/";

  function csrfToken() {
    var field = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (field) return field.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function announce(message) {
    var region = document.getElementById("tailored-status");
    if (!region) {
      region = document.createElement("div");
      region.id = "tailored-status";
      region.className = "tailored-status";
      region.setAttribute("role", "status");
      region.setAttribute("aria-live", "polite");
      body.appendChild(region);
    }
    region.textContent = message;
  }

  function savePreferences(changes, method) {
    return fetch(apiRoot + "preferences/", {
      method: method || "PATCH",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: method === "DELETE" ? undefined : JSON.stringify(changes),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var detail = data.detail || Object.keys(data).map(function (k) { return k + ": " + data[k]; }).join(" ");
          throw new Error(detail || "Could not save (" + response.status + ")");
        }
        return data;
      });
    });
  }

  function applyLook(prefs) {
    var theme = prefs.effective_theme || prefs.theme;
    var layout = prefs.effective_layout || prefs.layout;
    body.className = body.className
      .split(/\s+/)
      .filter(function (c) { return c && c.indexOf("tailored-theme-") !== 0 && c.indexOf("tailored-layout-") !== 0; })
      .concat(theme ? ["tailored-theme-" + theme] : [], layout ? ["tailored-layout-" + layout] : [])
      .join(" ");
    if (theme) body.setAttribute("data-tailored-theme", theme);
    if (layout) body.setAttribute("data-tailored-layout", layout);
  }

  /* Fetch this page again (now rendered for the new choices) and swap in its tailored parts. */
  function refreshTailoredParts() {
    return fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        ["data-tailored-area", "data-tailored-feed"].forEach(function (attr) {
          document.querySelectorAll("[" + attr + "]").forEach(function (old) {
            var id = old.getAttribute(attr);
            var replacement = fresh.querySelector("[" + attr + '="' + CSS.escape(id) + '"]');
            if (replacement) old.replaceWith(document.importNode(replacement, true));
          });
        });
      });
  }

  /* ---- Preferences panel ---------------------------------------------------------------------------- */
  function panelChoices(form) {
    var topics = [];
    form.querySelectorAll("input[name=topics]:checked").forEach(function (box) { topics.push(box.value); });
    var theme = form.querySelector("input[name=theme]:checked");
    var layout = form.querySelector("input[name=layout]:checked");
    var choices = {};
    if (form.querySelector("input[name=topics]")) choices.topics = topics;
    if (theme) choices.theme = theme.value;
    if (layout) choices.layout = layout.value;
    return choices;
  }

  function syncPanel(form, prefs) {
    form.querySelectorAll("input[name=topics]").forEach(function (box) {
      box.checked = (prefs.topics || []).indexOf(box.value) !== -1;
    });
    ["theme", "layout"].forEach(function (name) {
      var current = prefs["effective_" + name] || prefs[name];
      form.querySelectorAll("input[name=" + name + "]").forEach(function (radio) {
        radio.checked = radio.value === current;
      });
    });
  }

  function enhancePanel(form) {
    if (form.dataset.tailoredReady) return;
    form.dataset.tailoredReady = "1";
    var submitter = null;
    form.addEventListener("click", function (event) {
      if (event.target.matches("[type=submit]")) submitter = event.target;
    });
    function save(method) {
      var request = method === "DELETE" ? savePreferences(null, "DELETE") : savePreferences(panelChoices(form));
      return request
        .then(function (prefs) {
          if (method === "DELETE") {
            return savePreferences({}, "PATCH").then(function (fresh) { syncPanel(form, fresh); return fresh; });
          }
          return prefs;
        })
        .then(function (prefs) {
          applyLook(prefs);
          announce("Saved.");
          return refreshTailoredParts();
        })
        .catch(function (error) { announce(error.message); });
    }
    form.addEventListener("change", function () { save(); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var reset = submitter && submitter.name === "reset";
      submitter = null;
      save(reset ? "DELETE" : undefined);
    });
  }

  /* ---- Widget board ------------------------------------------------------------------------------------
   * The server renders every widget in the visitor's order, hidden ones with the `hidden` attribute; here
   * they get move and hide controls, and hidden ones a "Show" button in a tray after the board. */
  function boardWidgets(board) {
    return Array.prototype.slice.call(board.querySelectorAll(":scope > [data-tailored-widget]"));
  }

  function saveArrangement() {
    var order = [];
    var hidden = [];
    document.querySelectorAll("[data-tailored-board]").forEach(function (board) {
      boardWidgets(board).forEach(function (widget) {
        var key = widget.getAttribute("data-tailored-widget");
        order.push(key);
        if (widget.hidden) hidden.push(key);
      });
    });
    return savePreferences({ widgets: { order: order, hidden: hidden } })
      .then(function () { announce("Widgets saved."); })
      .catch(function (error) { announce(error.message); });
  }

  function button(label, text, action) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "tailored-widget-button secondary";
    b.setAttribute("aria-label", label);
    b.title = label;
    b.textContent = text;
    b.setAttribute("data-tailored-action", action);
    return b;
  }

  function widgetTitle(widget) {
    return widget.getAttribute("data-tailored-title") || widget.getAttribute("data-tailored-widget");
  }

  function addControls(widget) {
    var title = widgetTitle(widget);
    var controls = document.createElement("div");
    controls.className = "tailored-widget-controls";
    controls.appendChild(button("Move " + title + " up", "\u2191", "up"));
    controls.appendChild(button("Move " + title + " down", "\u2193", "down"));
    if (widget.getAttribute("data-tailored-hideable") !== "false") {
      controls.appendChild(button("Hide " + title, "Hide", "hide"));
    }
    widget.insertBefore(controls, widget.firstChild);
    widget.setAttribute("draggable", "true");
  }

  function showButton(tray, widget) {
    var title = widgetTitle(widget);
    var show = button("Show " + title, "Show " + title, "show");
    show.setAttribute("data-tailored-show", widget.getAttribute("data-tailored-widget"));
    tray.appendChild(show);
  }

  function enhanceBoard(board) {
    if (board.dataset.tailoredReady) return;
    board.dataset.tailoredReady = "1";
    var tray = document.createElement("div");
    tray.className = "tailored-hidden-widgets";
    tray.setAttribute("aria-label", "Hidden widgets");
    board.parentNode.insertBefore(tray, board.nextSibling);
    boardWidgets(board).forEach(function (widget) {
      addControls(widget);
      if (widget.hidden) showButton(tray, widget);
    });

    board.addEventListener("click", function (event) {
      var control = event.target.closest("[data-tailored-action]");
      if (!control) return;
      var widget = control.closest("[data-tailored-widget]");
      var action = control.getAttribute("data-tailored-action");
      if (action === "up" && widget.previousElementSibling) {
        board.insertBefore(widget, widget.previousElementSibling);
        control.focus();
      } else if (action === "down" && widget.nextElementSibling) {
        board.insertBefore(widget.nextElementSibling, widget);
        control.focus();
      } else if (action === "hide") {
        widget.hidden = true;
        showButton(tray, widget);
        tray.lastChild.focus();
      } else {
        return;
      }
      saveArrangement();
    });

    tray.addEventListener("click", function (event) {
      var show = event.target.closest("[data-tailored-show]");
      if (!show) return;
      var key = show.getAttribute("data-tailored-show");
      var widget = board.querySelector(':scope > [data-tailored-widget="' + CSS.escape(key) + '"]');
      tray.removeChild(show);
      if (widget) {
        widget.hidden = false;
        var first = widget.querySelector("button");
        if (first) first.focus();
      }
      saveArrangement();
    });

    var dragged = null;
    board.addEventListener("dragstart", function (event) {
      dragged = event.target.closest("[data-tailored-widget]");
      if (!dragged) return;
      dragged.classList.add("tailored-dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.getAttribute("data-tailored-widget"));
    });
    board.addEventListener("dragover", function (event) {
      if (!dragged) return;
      event.preventDefault();
      var over = event.target.closest("[data-tailored-widget]");
      if (!over || over === dragged || over.parentNode !== board) return;
      var box = over.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      board.insertBefore(dragged, after ? over.nextSibling : over);
    });
    board.addEventListener("drop", function (event) { event.preventDefault(); });
    board.addEventListener("dragend", function () {
      if (!dragged) return;
      dragged.classList.remove("tailored-dragging");
      dragged = null;
      saveArrangement();
    });
  }

  function start() {
    document.querySelectorAll("form[data-tailored-panel]").forEach(enhancePanel);
    document.querySelectorAll("[data-tailored-board]").forEach(enhanceBoard);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
