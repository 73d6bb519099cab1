// synth review: small conveniences on top of plain forms (everything works without this file),
// and keyboard triage (press ? in the app for the keys).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Ask before actions that change a lot at once.
  document.querySelectorAll("[data-confirm]").forEach((button) => {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });
  // "Tick all on this page" boxes.
  document.querySelectorAll("[data-tick-all]").forEach((box) => {
    box.addEventListener("change", () => {
      box.form.querySelectorAll(`input[type=checkbox][name="${box.dataset.tickAll}"]`)
        .forEach((b) => { b.checked = box.checked; });
    });
  });
  // Filters apply as soon as they change.
  document.querySelectorAll("form[data-autosubmit] select").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  // Bring the highlighted passage into the middle of the screen, not the top edge.
  const target = document.querySelector(".source-text .target");
  if (target) target.scrollIntoView({ block: "center" });

  // Source view: clicking a passage's text ticks it (unless the reader is selecting text).
  document.querySelectorAll(".source-text mark, .source-text span.uncoded").forEach((el) => {
    el.addEventListener("click", () => {
      const tick = el.previousElementSibling;
      if (tick && tick.matches("input.tick") && !String(window.getSelection() || "")) tick.checked = !tick.checked;
    });
  });
  // Enter in a field that names a button (the new theme's label) presses that button, not the
  // form's first one.
  document.querySelectorAll("[data-enter-clicks]").forEach((field) => {
    field.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault();
      const button = field.form.querySelector(field.dataset.enterClicks);
      if (button) button.click();
    });
  });
  keyboard();
});

function keyboard() {
  const help = document.getElementById("keys-help");
  // The list the keys walk: theme rows, listed passages, or a source's passages.
  const items = Array.from(document.querySelectorAll(
    "table.themes tbody tr[data-theme], li.member, .source-text input.tick"));
  let current = -1;

  const shown = (i) => (items[i].matches("input.tick") ? items[i].nextElementSibling || items[i] : items[i]);
  const select = (i) => {
    if (!items.length) return;
    if (current >= 0) shown(current).classList.remove("current");
    current = Math.max(0, Math.min(items.length - 1, i));
    const el = shown(current);
    el.classList.add("current");
    el.scrollIntoView({ block: "nearest" });
  };
  const tickOf = (el) => (el.matches("input.tick") ? el : el.querySelector('input[type=checkbox][name="passage"]'));
  const ticked = () => Array.from(document.querySelectorAll('input[type=checkbox][name="passage"]:checked'));
  const ensureTicked = () => {
    if (!ticked().length && current >= 0) {
      const tick = tickOf(items[current]);
      if (tick) tick.checked = true;
    }
  };
  const click = (selector) => {
    const el = document.querySelector(selector);
    if (el) el.click();
    return Boolean(el);
  };
  // Choose a theme for the ticked passages with the keyboard; Enter presses `button`.
  const chooseTheme = (button) => {
    const buttonEl = document.querySelector(button);
    if (!buttonEl) return;
    ensureTicked();
    const select = buttonEl.form.querySelector('select[name="theme_id"]');
    select.dataset.enterPresses = button;
    select.focus();
  };
  document.querySelectorAll('select[name="theme_id"]').forEach((sel) => {
    sel.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && sel.dataset.enterPresses) {
        event.preventDefault();
        click(sel.dataset.enterPresses);
      }
    });
  });
  // Accept or reject the current row of the themes list: the same POST its page's buttons make.
  const themeRowAction = (action) => {
    if (current < 0 || !items[current].matches("tr[data-theme]")) return;
    const id = items[current].dataset.theme;
    const rev = items[current].querySelector(`input[name="rev-${id}"]`);
    const form = document.createElement("form");
    form.method = "post";
    form.action = `/themes/${id}/${action}`;
    const fields = { csrf_token: document.querySelector('meta[name="csrf-token"]').content,
                     back: location.pathname + location.search };
    fields[`rev-${id}`] = rev ? rev.value : "";
    for (const [name, value] of Object.entries(fields)) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.appendChild(input);
    }
    document.body.appendChild(form);
    form.submit();
  };

  // Unplaced passages: accept the current passage's nearest theme (place it there, and only it).
  const placeInNearest = (item) => {
    document.querySelectorAll('input[type=checkbox][name="passage"]').forEach((b) => { b.checked = false; });
    tickOf(item).checked = true;
    const form = item.closest("form");
    form.querySelector('select[name="theme_id"]').value = item.dataset.nearest;
    form.querySelector("#move-button").click();
  };

  // Check next: confirm the current passage's category as shown (or set the n-th category), the same
  // POST as its "Set category" button. The page opens on its first passage, so a keyboard reviewer
  // works down the queue with a, 1-4 and j/k alone.
  const onCheckPage = Boolean(document.getElementById("check-form"));
  const setCategory = (nth) => {
    if (current < 0) return false;
    const choice = items[current].querySelector('select[id^="category-select-"]');
    const button = items[current].querySelector('button[id^="categorise-"]');
    if (!choice || !button || (nth !== null && nth > choice.options.length)) return false;
    if (nth !== null) choice.selectedIndex = nth - 1;
    button.click();
    return true;
  };
  if (onCheckPage) select(0);

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
    if (event.key === "Escape") {
      if (!help.hidden) help.hidden = true;
      else if (typing) event.target.blur();
      return;
    }
    if (typing) return;  // no shortcuts while typing
    const onThemePage = Boolean(document.getElementById("theme-label"));
    switch (event.key) {
      case "?": help.hidden = !help.hidden; break;
      case "/": {
        const box = document.getElementById("search-input");
        box.focus();
        box.select();
        break;
      }
      case "j": select(current + 1); break;
      case "k": select(current < 0 ? 0 : current - 1); break;
      case "Enter":
      case "o": {
        if (current < 0) return;
        const link = items[current].querySelector ? items[current].querySelector("a.theme-link, a.open-source") : null;
        if (!link) return;
        link.click();
        break;
      }
      case "x": {
        if (current < 0) return;
        const tick = tickOf(items[current]);
        if (tick) tick.checked = !tick.checked;
        break;
      }
      case "n": if (!click("#next-theme")) return; break;
      case "p": if (!click("#prev-theme")) return; break;
      case "1": case "2": case "3": case "4":
        if (!onCheckPage || !setCategory(Number(event.key))) return;
        break;
      case "a":
        if (onCheckPage) { if (!setCategory(null)) return; }
        else if (onThemePage) { if (!click("#accept-button")) return; }
        else if (current >= 0 && items[current].dataset.nearest) placeInNearest(items[current]);
        else themeRowAction("accept");
        break;
      case "r": if (onThemePage) { if (!click("#reject-button")) return; } else themeRowAction("reject"); break;
      case "m": chooseTheme("#move-button"); break;
      case "c": chooseTheme("#code-button"); break;
      case "t": {
        const label = document.getElementById("new-theme-label");
        if (!label) return;
        ensureTicked();
        label.focus();
        break;
      }
      case "u": if (!click("#undo-button")) return; break;
      default: return;
    }
    event.preventDefault();
  });
}
