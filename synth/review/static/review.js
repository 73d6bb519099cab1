// synth review: small conveniences on top of plain forms (everything works without this file).
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
});
