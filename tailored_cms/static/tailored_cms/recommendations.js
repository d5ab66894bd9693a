/* tailored_cms "Recommended pages": the page holds the popular list, the same for everyone (cached); this
 * replaces it with the visitor's own list from recommendations/ (private to them), each page with why.
 *
 * The list arrives as a tailored area ([data-tailored-area-key][data-tailored-path], its pages inside a
 * [data-tailored-variant]), so the beacon reports its impression and clicks like an area's and results compare
 * the recommendations with the holdout's popular list; "Why am I seeing this?" explains it by its key.
 * Writes no text of its own: the titles and reasons come translated from the server.
 */
(function () {
  "use strict";

  var apiRoot = document.body.getAttribute("data-tailored-api") || "/tailored/api/v1/";

  function item(page) {
    var li = document.createElement("li");
    li.setAttribute("data-tailored-recommended-page", page.id);
    li.setAttribute("data-tailored-reason", page.kind);
    var link = document.createElement("a");
    link.href = page.url;
    link.textContent = page.title;
    var reason = document.createElement("span");
    reason.className = "tailored-recommendation-reason";
    reason.textContent = page.reason;
    li.appendChild(link);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(reason);
    return li;
  }

  function show(box, answer) {
    if (!answer.pages.length) return; // keep the popular list the page came with
    var area = document.createElement("div");
    area.setAttribute("data-tailored-area-key", answer.area);
    area.setAttribute("data-tailored-path", answer.path);
    area.setAttribute("data-tailored-language", answer.language);
    var list = document.createElement("ul");
    list.className = "tailored-recommendations-pages";
    list.setAttribute("data-tailored-variant", answer.variant);
    answer.pages.forEach(function (page) { list.appendChild(item(page)); });
    area.appendChild(list);
    box.textContent = "";
    box.appendChild(area);
  }

  function load(section) {
    var box = section.querySelector("[data-tailored-recommendations-list]");
    if (!box) return;
    var query = "plugin=" + encodeURIComponent(section.getAttribute("data-tailored-recommendations"));
    var page = section.getAttribute("data-tailored-page");
    if (page) query += "&page=" + encodeURIComponent(page);
    fetch(apiRoot + "recommendations/?" + query, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) { if (answer) show(box, answer); })
      .catch(function () { /* the popular list stays */ });
  }

  function start() {
    document.querySelectorAll("[data-tailored-recommendations]").forEach(load);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
