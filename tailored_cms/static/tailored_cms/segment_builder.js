/* The rule builder of the admin's segment form.
 *
 * It edits the rule tree in the form's `rules` textarea (the JSON the server validates and saves) and hides it,
 * so an editor meets rules, parameters and choices by name only; the "Developer view" switch (off unless this
 * browser switched it on last time) shows the JSON to edit, and the segment's slug. What it offers comes from the
 * server, in a JSON data block next to the textarea (rules/forms.py builder_config): every registered rule type
 * with its parameters and their choices' labels, and the topics, segments, user groups, languages, traits,
 * countries and continents to pick from (a long list has a box to find a choice by name; a date trait compared
 * with a date gets a date picker). After each change it asks the preview endpoint how many visitors match, and
 * shows the server's answer, or its error (the rule and parameter it names marked, and called by their labels).
 * No inline script, no dependencies. Without JavaScript the textarea is a plain JSON field. Its texts come from
 * Django's JavaScript catalog (tailored_cms/script_catalog.py, loaded before it in the editor's language), in
 * English without it.
 */
(function () {
  "use strict";

  const gettext = window.gettext || ((text) => text);
  // Named placeholders only (interpolate(format, {name: value}, true)), as translators may reorder them.
  const interpolate =
    window.interpolate || ((format, values) => format.replace(/%\(\w+\)s/g, (name) => String(values[name.slice(2, -2)])));
  const named = (format, values) => interpolate(format, values, true);

  const PREVIEW_DELAY_MS = 400;
  const DEVELOPER_VIEW_KEY = "tailored_cms.segment_builder.developer_view"; // in localStorage: "1" when on
  const LONG_LIST = 20; // more choices than this get a box to find them by name, and scroll
  // The trait rule's comparisons of a date trait with one date: a date picker for them.
  const DATE_OPS = new Set(["eq", "ne", "gt", "gte", "lt", "lte", "before", "after"]);
  const EXCLUSIVE_OPS = new Set(["gt", "lt", "before", "after"]);
  const KINDS = [
    // Translators: the two kinds of rules, headings in the segment builder's list of rules to add.
    ["behavioural", gettext("What the visitor did")],
    ["request", gettext("Checked on each page view")],
  ];
  // A group's header: how its rules combine. "none" and "notall" are a group inside a "not".
  const COMBINE = [
    // Translators: how the rules of a group combine, the choices after "Visitors matching".
    ["all", gettext("All of these"), "all", false],
    ["any", gettext("Any of these"), "any", false],
    ["none", gettext("None of these"), "any", true],
    ["notall", gettext("Not all of these"), "all", true],
  ];

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "value" || key === "checked" || key === "selected") node[key] = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  /* A value of any kind typed in one box (the trait rule's): numbers and true/false as such (unless the trait
     holds text), a list for in and not_in ("pro, team"), anything else as text; the server names what doesn't fit. */
  function typedValue(text, op, kind) {
    const one = (part) => {
      const trimmed = part.trim();
      if (kind === "string" || kind === "list" || kind === "date") return trimmed;
      if (/^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
      if (trimmed === "true" || trimmed === "false") return trimmed === "true";
      return trimmed;
    };
    if (op === "in" || op === "not_in") return text.split(",").map(one).filter((item) => item !== "");
    return text.trim() === "" ? undefined : one(text);
  }

  /* Text as compared when finding a choice by name: lower case, without accents ("é" finds "e"). */
  function folded(text) {
    return String(text).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  /* Whether this browser had the developer view on (false where storage is refused). */
  function rememberedDeveloperView() {
    try {
      return window.localStorage.getItem(DEVELOPER_VIEW_KEY) === "1";
    } catch (error) {
      return false;
    }
  }

  function rememberDeveloperView(on) {
    try {
      if (on) window.localStorage.setItem(DEVELOPER_VIEW_KEY, "1");
      else window.localStorage.removeItem(DEVELOPER_VIEW_KEY);
    } catch (error) {
      // storage refused: the switch still works on this page
    }
  }

  class Builder {
    constructor(container) {
      this.container = container;
      this.config = JSON.parse(document.getElementById(container.dataset.tailoredBuilder).textContent);
      this.textarea = document.getElementById(container.dataset.textarea);
      this.form = this.textarea.form;
      this.rules = Object.fromEntries(this.config.rules.map((rule) => [rule.name, rule]));
      this.ids = 0;
      this.elements = new WeakMap(); // node -> its element, to put the focus back after a re-render
      this.timer = null;
      this.pending = null;
      this.jsonMode = false;

      this.tree = el("div", { class: "tailored-builder-tree" });
      this.words = el("p", { class: "tailored-builder-words" });
      this.count = el("p", { class: "tailored-builder-count", role: "status", "aria-live": "polite" });
      const switchId = this.id();
      const switchHelpId = this.id();
      this.developerSwitch = el("input", {
        type: "checkbox",
        id: switchId,
        class: "tailored-builder-developer",
        "aria-describedby": switchHelpId,
        onchange: () => this.switchView(this.developerSwitch.checked),
      });
      const slug = this.slug();
      this.slugNote = el("p", {
        class: "tailored-builder-slug",
        hidden: true,
        text: slug
          ? named(gettext("Slug: %(slug)s (templates, other segments' rules and the API name the segment by it; it stays when the segment is renamed)."), { slug })
          : gettext("Slug: made from the name when the segment is first saved."),
      });
      this.jsonNote = el("p", { class: "tailored-builder-note", hidden: true });
      container.classList.add("tailored-builder-ready");
      container.prepend(this.tree);
      container.append(
        this.slugNote,
        this.jsonNote,
        el("div", { class: "tailored-builder-status" }, this.words, this.count),
        el(
          "p",
          { class: "tailored-builder-switch" },
          this.developerSwitch,
          " ",
          // Translators: a switch under the segment builder that shows the rules as code (JSON) and the segment's slug.
          el("label", { for: switchId, text: gettext("Developer view") }),
          " ",
          el("span", { id: switchHelpId, class: "tailored-builder-switch-help", text: gettext("the rules as code, to edit by hand") })
        )
      );
      this.textarea.addEventListener("input", () => this.jsonMode && this.schedulePreview());
      if (this.form) this.form.addEventListener("submit", () => this.jsonMode || this.sync(false));

      const text = this.textarea.value.trim();
      let parsed = { all: [] };
      try {
        if (text) parsed = JSON.parse(text);
      } catch (error) {
        this.root = this.emptyRoot();
        this.showJSON(
          gettext("These rules aren't valid JSON, so the builder can't show them. Fix them here, then go back to the builder.")
        );
        this.schedulePreview();
        return;
      }
      this.root = this.rootFrom(parsed);
      this.textarea.hidden = true;
      this.render();
      if (rememberedDeveloperView()) this.showJSON("");
      this.schedulePreview();
    }

    // --- the tree, as JSON and as nodes -------------------------------------------------------------------

    emptyRoot() {
      return { type: "group", op: "all", not: false, children: [] };
    }

    rootFrom(value) {
      const node = this.fromJSON(value);
      if (node.type === "group") return node;
      const root = this.emptyRoot();
      root.children.push(node);
      return root;
    }

    fromJSON(value) {
      if (isObject(value)) {
        const keys = Object.keys(value);
        if (keys.length === 1 && keys[0] === "not") {
          const inner = this.fromJSON(value.not);
          inner.not = !inner.not;
          return inner;
        }
        if (keys.length === 1 && (keys[0] === "all" || keys[0] === "any") && Array.isArray(value[keys[0]])) {
          return { type: "group", op: keys[0], not: false, children: value[keys[0]].map((child) => this.fromJSON(child)) };
        }
        if (typeof value.rule === "string" && this.rules[value.rule]) {
          const params = Object.assign({}, value);
          delete params.rule;
          return { type: "rule", rule: value.rule, not: false, params };
        }
      }
      return { type: "raw", not: false, json: value }; // a rule no longer registered, or a shape we don't know
    }

    toJSON(node) {
      let value;
      if (node.type === "group") value = { [node.op]: node.children.map((child) => this.toJSON(child)) };
      else if (node.type === "rule") {
        value = { rule: node.rule };
        for (const [key, param] of Object.entries(node.params)) {
          if (param !== undefined) value[key] = param;
        }
      } else value = node.json;
      return node.not ? { not: value } : value;
    }

    currentRules() {
      if (!this.jsonMode) return { ok: true, rules: this.toJSON(this.root) };
      try {
        return { ok: true, rules: JSON.parse(this.textarea.value) };
      } catch (error) {
        return { ok: false, error: error.message };
      }
    }

    /* Write the tree into the textarea (what the form posts), then count again. */
    sync(preview = true) {
      this.textarea.value = JSON.stringify(this.toJSON(this.root), null, 2);
      if (preview) this.schedulePreview();
    }

    changed(focusNode) {
      this.render(focusNode);
      this.sync();
    }

    // --- rendering ----------------------------------------------------------------------------------------

    id() {
      this.ids += 1;
      return `${this.textarea.id}-b${this.ids}`;
    }

    render(focusNode) {
      this.elements = new WeakMap();
      this.tree.replaceChildren(this.renderGroup(this.root, null));
      const target = focusNode && this.elements.get(focusNode);
      if (target) {
        const input = target.querySelector("input, select, textarea, button");
        (input || target).focus();
      }
    }

    tools(node, parent) {
      if (!parent) return null;
      const index = parent.children.indexOf(node);
      const move = (by) => () => {
        parent.children.splice(index, 1);
        parent.children.splice(index + by, 0, node);
        this.changed();
        const moved = this.elements.get(node);
        const button = moved && moved.querySelector(`:scope > .tailored-builder-head [data-move="${by}"]`);
        if (button && !button.disabled) button.focus();
      };
      const group = node.type === "group";
      const up = group ? gettext("Move this group up") : gettext("Move this rule up");
      const down = group ? gettext("Move this group down") : gettext("Move this rule down");
      return el(
        "span",
        { class: "tailored-builder-tools" },
        el("button", { type: "button", class: "button", "data-move": "-1", title: up, "aria-label": up, disabled: index === 0, onclick: move(-1), text: "↑" }),
        el("button", { type: "button", class: "button", "data-move": "1", title: down, "aria-label": down, disabled: index === parent.children.length - 1, onclick: move(1), text: "↓" }),
        el("button", {
          type: "button",
          class: "button tailored-builder-remove",
          text: group ? gettext("Remove group") : gettext("Remove rule"),
          onclick: () => {
            parent.children.splice(index, 1);
            this.changed(parent);
          },
        })
      );
    }

    renderGroup(node, parent) {
      const selectId = this.id();
      const current = COMBINE.find(([, , op, not]) => op === node.op && not === node.not)[0];
      const combine = el(
        "select",
        {
          id: selectId,
          class: "tailored-builder-combine",
          onchange: (event) => {
            const [, , op, not] = COMBINE.find(([value]) => value === event.target.value);
            node.op = op;
            node.not = not;
            this.sync();
          },
        },
        COMBINE.map(([value, label]) => el("option", { value, text: label, selected: value === current }))
      );
      const list = el("ol", { class: "tailored-builder-children" });
      for (const child of node.children) {
        list.append(child.type === "group" ? el("li", {}, this.renderGroup(child, node)) : this.renderLeaf(child, node));
      }
      if (!node.children.length) {
        list.append(el("li", { class: "tailored-builder-empty", text: gettext("No rules yet: add one below.") }));
      }
      const group = el(
        "fieldset",
        { class: parent ? "tailored-builder-group" : "tailored-builder-group tailored-builder-root" },
        el(
          "legend",
          {},
          el("label", { for: selectId, text: parent ? gettext("A group: visitors matching") : gettext("Visitors matching") }),
          " ",
          combine
        ),
        el("div", { class: "tailored-builder-head" }, this.tools(node, parent)),
        list,
        this.renderAdd(node)
      );
      this.elements.set(node, group);
      return group;
    }

    renderAdd(group) {
      const selectId = this.id();
      const select = el(
        "select",
        { id: selectId, class: "tailored-builder-add-rule" },
        el("option", { value: "", text: gettext("Choose a rule…") }),
        KINDS.map(([kind, label]) =>
          el(
            "optgroup",
            { label },
            this.config.rules
              .filter((rule) => rule.kind === kind)
              .map((rule) => el("option", { value: rule.name, text: rule.label }))
          )
        )
      );
      return el(
        "div",
        { class: "tailored-builder-add" },
        el("label", { for: selectId, class: "tailored-builder-add-label", text: gettext("Add a rule:") }),
        " ",
        select,
        " ",
        el("button", {
          type: "button",
          class: "button tailored-builder-add-rule-button",
          text: gettext("Add rule"),
          onclick: () => {
            const rule = this.rules[select.value];
            if (!rule) {
              select.focus();
              return;
            }
            const params = {};
            for (const param of rule.params) {
              if (param.type === "bool" && param.required) params[param.name] = true;
            }
            const leaf = { type: "rule", rule: rule.name, not: false, params };
            group.children.push(leaf);
            this.changed(leaf);
          },
        }),
        " ",
        el("button", {
          type: "button",
          class: "button tailored-builder-add-group",
          text: gettext("Add group"),
          onclick: () => {
            const inner = { type: "group", op: group.op === "all" ? "any" : "all", not: false, children: [] };
            group.children.push(inner);
            this.changed(inner);
          },
        })
      );
    }

    renderLeaf(node, parent) {
      const notId = this.id();
      const head = el(
        "div",
        { class: "tailored-builder-head" },
        el(
          "span",
          { class: "tailored-builder-not" },
          el("input", {
            type: "checkbox",
            id: notId,
            checked: node.not,
            onchange: (event) => {
              node.not = event.target.checked;
              item.classList.toggle("tailored-builder-negated", node.not);
              this.sync();
            },
          }),
          // Translators: a checkbox before a rule that negates it (the visitor must not match it).
          el("label", { for: notId, text: gettext("not"), title: gettext("The visitor must not match this rule") })
        )
      );
      let body;
      if (node.type === "raw") {
        head.append(el("span", { class: "tailored-builder-rule-label", text: gettext("A rule the builder doesn't know") }));
        body = el("p", {
          class: "tailored-builder-help",
          text: gettext("It is kept as it is; the developer view shows it, to change or remove it."),
        });
      } else {
        const rule = this.rules[node.rule];
        head.append(el("span", { class: "tailored-builder-rule-label", text: rule.label }));
        if (rule.kind === "request") {
          head.append(el("span", { class: "tailored-builder-kind", text: gettext("checked on each page view") }));
        }
        body = el(
          "div",
          {},
          rule.description ? el("p", { class: "tailored-builder-help", text: rule.description }) : null,
          el("div", { class: "tailored-builder-params" }, rule.params.map((param) => this.renderParam(node, param)))
        );
      }
      const tools = this.tools(node, parent);
      if (tools) head.append(tools);
      const item = el(
        "li",
        { class: "tailored-builder-rule" + (node.not ? " tailored-builder-negated" : ""), "data-rule": node.type === "rule" ? node.rule : "" },
        head,
        body
      );
      this.elements.set(node, item);
      return item;
    }

    /* The options of a parameter: its choices, or the site's topics, segments, groups, languages, traits, or the
       countries and continents. */
    options(param, value) {
      let options;
      if (param.type === "topic") options = this.config.topics;
      else if (param.type === "country") options = this.config.countries || [];
      else if (param.type === "continent") options = this.config.continents || [];
      else if (param.type === "group") options = this.config.groups;
      else if (param.type === "language") options = this.config.languages;
      else if (param.type === "trait") options = this.config.traits || [];
      else if (param.type === "segment") {
        const editing = this.slug();
        options = this.config.segments.filter((option) => option.value !== editing);
      } else if (param.choices) options = param.choices;
      else return null;
      // A value saved earlier that is no longer offered (a topic deleted since) stays visible, and kept.
      const known = new Set(options.map((option) => option.value));
      const missing = (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((item) => !known.has(item));
      return options.concat(missing.map((item) => ({ value: item, label: named(gettext("%(value)s (not found)"), { value: item }) })));
    }

    renderParam(node, param) {
      const value = node.params[param.name];
      const set = (newValue) => {
        if (newValue === undefined || newValue === "" || (Array.isArray(newValue) && !newValue.length)) delete node.params[param.name];
        else node.params[param.name] = newValue;
        wrapper.classList.remove("tailored-builder-invalid");
        this.sync();
        if (param.type !== "value") this.refreshValue(node, wrapper);
      };
      const label = param.required ? param.label : named(gettext("%(label)s (optional)"), { label: param.label });
      const help = param.help ? el("span", { class: "tailored-builder-param-help", text: param.help }) : null;
      const options = this.options(param, value);
      let wrapper;
      if (options && param.many) {
        const chosen = new Set(Array.isArray(value) ? value : value === undefined ? [] : [value]);
        const long = options.length > LONG_LIST;
        // In a long list the chosen ones come first, where the editor sees them without scrolling.
        const listed = long
          ? options.filter((option) => chosen.has(option.value)).concat(options.filter((option) => !chosen.has(option.value)))
          : options;
        const choices = listed.map((option) => {
          const id = this.id();
          return el(
            "span",
            { class: "tailored-builder-choice", "data-name": folded(option.label) },
            el("input", {
              type: "checkbox",
              id,
              value: option.value,
              checked: chosen.has(option.value),
              onchange: () => {
                const checked = Array.from(wrapper.querySelectorAll("input[type=checkbox]:checked"), (input) => input.value);
                set(checked);
              },
            }),
            el("label", { for: id, text: option.label })
          );
        });
        let finder = null;
        if (long) {
          const findId = this.id();
          finder = el(
            "span",
            { class: "tailored-builder-find" },
            el("label", { for: findId, text: gettext("Find by name") }),
            el("input", {
              type: "search",
              id: findId,
              autocomplete: "off",
              oninput: (event) => {
                const wanted = folded(event.target.value.trim());
                for (const choice of choices) {
                  const checked = choice.querySelector("input").checked;
                  choice.hidden = Boolean(wanted) && !checked && !choice.dataset.name.includes(wanted);
                }
              },
            })
          );
        }
        wrapper = el(
          "fieldset",
          { class: "tailored-builder-param tailored-builder-choices", "data-param": param.name },
          el("legend", { text: label }),
          finder,
          long ? el("div", { class: "tailored-builder-long" }, choices) : choices,
          options.length ? null : el("span", { class: "tailored-builder-param-help", text: gettext("Nothing to choose from yet.") }),
          help
        );
        return wrapper;
      }
      const id = this.id();
      let input;
      let shownHelp = param.help;
      if (param.type === "bool") {
        input = el(
          "select",
          { id, onchange: (event) => set(event.target.value === "" ? undefined : event.target.value === "true") },
          el("option", { value: "", text: "—" }),
          el("option", { value: "true", text: gettext("yes"), selected: value === true }),
          el("option", { value: "false", text: gettext("no"), selected: value === false })
        );
      } else if (options) {
        input = el(
          "select",
          { id, onchange: (event) => set(event.target.value || undefined) },
          el("option", { value: "", text: options.length ? gettext("Choose…") : gettext("Nothing to choose from yet.") }),
          options.map((option) => el("option", { value: option.value, text: option.label, selected: option.value === value }))
        );
      } else if (param.type === "int") {
        input = el("input", {
          type: "number",
          id,
          step: "1",
          min: param.min,
          max: param.max,
          inputmode: "numeric",
          value: value === undefined ? "" : String(value),
          oninput: (event) => {
            const text = event.target.value.trim();
            // A whole number goes as a number; anything else as typed, for the server to name what is wrong.
            set(/^-?\d+$/.test(text) ? Number(text) : text || undefined);
          },
        });
      } else if (param.type === "value" && this.traitKind(node) === "date" && DATE_OPS.has(node.params.op)) {
        input = el("input", {
          type: "date",
          id,
          value: typeof value === "string" ? value : "",
          oninput: (event) => set(event.target.value || undefined),
        });
        shownHelp = EXCLUSIVE_OPS.has(node.params.op) ? gettext("That day itself is not included.") : "";
      } else if (param.type === "value") {
        input = el("input", {
          type: "text",
          id,
          value: Array.isArray(value) ? value.join(", ") : value === undefined ? "" : String(value),
          oninput: (event) => set(typedValue(event.target.value, node.params.op, this.traitKind(node))),
        });
      } else {
        const shown = Array.isArray(value) ? value.join(", ") : value === undefined ? "" : String(value);
        input = el("input", {
          type: "text",
          id,
          maxlength: param.many ? null : param.max_length,
          value: shown,
          oninput: (event) => {
            const text = event.target.value;
            if (param.many) {
              set(text.split(",").map((part) => part.trim()).filter(Boolean));
            } else {
              set(text.trim() || undefined);
            }
          },
        });
      }
      wrapper = el(
        "div",
        { class: "tailored-builder-param", "data-param": param.name },
        el("label", { for: id, text: label }),
        input,
        shownHelp ? el("span", { class: "tailored-builder-param-help", text: shownHelp }) : null
      );
      return wrapper;
    }

    /* The kind of the trait a trait rule names ("date", "number"…; "" for one the site hasn't set). */
    traitKind(node) {
      const trait = (this.config.traits || []).find((option) => option.value === node.params.name);
      return trait ? trait.kind : "";
    }

    /* A rule's value box follows its other parameters (the trait rule's: a date picker for a date trait compared
       with one date): after one of them changes, it is made again if it should be another kind of box. */
    refreshValue(node, changed) {
      const rule = this.rules[node.rule];
      const param = rule && rule.params.find((item) => item.type === "value");
      const box = param && changed.parentNode && changed.parentNode.querySelector(`:scope > [data-param="${CSS.escape(param.name)}"]`);
      if (!box) return;
      const fresh = this.renderParam(node, param);
      const inputType = (wrapper) => (wrapper.querySelector("input") || {}).type;
      if (inputType(fresh) !== inputType(box)) box.replaceWith(fresh);
    }

    // --- the developer view: the rules as JSON, and the slug ---------------------------------------------------

    showJSON(note) {
      this.jsonMode = true;
      this.developerSwitch.checked = true;
      this.textarea.hidden = false;
      this.slugNote.hidden = false;
      this.tree.hidden = true;
      this.jsonNote.textContent = note || "";
      this.jsonNote.hidden = !note;
    }

    /* The switch changed: the JSON to edit, or back to the builder once the JSON is valid (else the view stays). */
    switchView(on) {
      if (on) {
        this.sync(false);
        this.showJSON("");
        rememberDeveloperView(true);
        return;
      }
      let parsed;
      try {
        parsed = JSON.parse(this.textarea.value.trim() || '{"all": []}');
      } catch (error) {
        this.developerSwitch.checked = true;
        this.jsonNote.textContent = named(gettext("The JSON isn't valid (%(error)s): fix it, or keep editing it here."), {
          error: error.message,
        });
        this.jsonNote.hidden = false;
        return;
      }
      rememberDeveloperView(false);
      this.jsonMode = false;
      this.root = this.rootFrom(parsed);
      this.textarea.hidden = true;
      this.slugNote.hidden = true;
      this.tree.hidden = false;
      this.jsonNote.hidden = true;
      this.render();
      this.sync();
    }

    // --- how many visitors match ----------------------------------------------------------------------------

    /* The slug of the segment edited; "" for a new one. */
    slug() {
      return this.container.dataset.segment || "";
    }

    schedulePreview() {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.preview(), PREVIEW_DELAY_MS);
    }

    say(text, error) {
      this.count.textContent = text;
      this.count.classList.toggle("tailored-builder-error", Boolean(error));
    }

    /* Mark the fields the server's 400 names in its "invalid" list: {rule, parameter} ("" for the whole rule). */
    markInvalid(invalid) {
      for (const node of this.tree.querySelectorAll(".tailored-builder-invalid")) node.classList.remove("tailored-builder-invalid");
      for (const { rule, parameter } of invalid) {
        for (const item of this.tree.querySelectorAll(`.tailored-builder-rule[data-rule="${CSS.escape(String(rule))}"]`)) {
          const target = parameter ? item.querySelector(`[data-param="${CSS.escape(String(parameter))}"]`) || item : item;
          target.classList.add("tailored-builder-invalid");
        }
      }
    }

    /* The server's message with the codes of the rules and of the parameter it names, quoted ('topic_views'), as
       the builder shows them ("Viewed pages about a topic"). */
    inWords(message, invalid) {
      let text = message;
      for (const { rule, parameter } of invalid) {
        const type = this.rules[rule];
        const param = type && parameter && type.params.find((item) => item.name === parameter);
        if (param) text = text.split(`'${parameter}'`).join(`“${param.label}”`);
      }
      for (const type of this.config.rules) text = text.split(`'${type.name}'`).join(`“${type.label}”`);
      return text;
    }

    async preview() {
      const current = this.currentRules();
      if (!current.ok) {
        this.say(named(gettext("Not valid JSON yet: %(error)s"), { error: current.error }), true);
        return;
      }
      if (!this.jsonMode && this.root.type === "group" && !this.root.children.length) {
        this.words.textContent = "";
        this.say(gettext("Add a rule to see how many visitors match."));
        return;
      }
      if (!this.config.preview_url) return;
      if (this.pending) this.pending.abort();
      const pending = new AbortController();
      this.pending = pending;
      this.say(gettext("Counting visitors…"));
      const token = this.form && this.form.querySelector("input[name=csrfmiddlewaretoken]");
      const body = { rules: current.rules };
      if (this.slug()) body.segment = this.slug();
      let response;
      let data = {};
      try {
        response = await fetch(this.config.preview_url, {
          method: "POST",
          credentials: "same-origin",
          headers: {
            "Content-Type": "application/json",
            Accept: "application/json",
            [this.config.csrf_header]: token ? token.value : "",
          },
          body: JSON.stringify(body),
          signal: pending.signal,
        });
        data = await response.json().catch(() => ({}));
      } catch (error) {
        if (error.name !== "AbortError" && this.pending === pending) {
          this.say(gettext("Couldn't count the visitors: the server didn't answer. Saving still works."), true);
        }
        return;
      }
      if (this.pending !== pending) return; // a newer change is being counted
      if (response.ok) {
        this.markInvalid([]);
        // Translators: %(words)s is the server's description of the rules, e.g. "read about sports at least 3 times".
        this.words.textContent = data.in_words ? named(gettext("In words: every visitor who %(words)s."), { words: data.in_words }) : "";
        this.say(data.summary);
        return;
      }
      const messages = [];
      if (typeof data.detail === "string") messages.push(data.detail);
      for (const [field, value] of Object.entries(data)) {
        if (field === "detail" || field === "invalid") continue;
        const list = Array.isArray(value) ? value : [value];
        messages.push(...list.map((message) => (field === "rules" ? String(message) : `${field}: ${message}`)));
      }
      const invalid = Array.isArray(data.invalid) ? data.invalid : [];
      this.markInvalid(invalid);
      const text = this.jsonMode ? messages.join(" ") : this.inWords(messages.join(" "), invalid);
      if (response.status === 400) this.say(named(gettext("Not valid yet: %(messages)s"), { messages: text }), true);
      else {
        const failed = named(gettext("Couldn't count the visitors (HTTP %(status)s)."), { status: response.status });
        this.say(messages.join(" ") || failed, true);
      }
    }
  }

  function start() {
    for (const container of document.querySelectorAll("[data-tailored-builder]")) {
      if (!container.classList.contains("tailored-builder-ready")) new Builder(container);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
