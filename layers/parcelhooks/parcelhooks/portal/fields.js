// The API's problem list, shown in the merchant's words: each problem under the field it is
// about (found by its `loc`), and all of them in a list at the top of the form whose items
// lead to the fields.

import { $, el } from "./dom.js";
import { has, t } from "./i18n.js";

export function problemText(detail) {
  const key = `problem.${detail.type}`;
  return t(has(key) ? key : "problem.other", { message: detail.message });
}

// The field a problem is about: the one whose data-loc is the problem's loc or its longest
// prefix ("filter.data.status" -> "filter", "headers[1].value" -> "headers[1].value").
function fieldFor(form, dotted) {
  // The API names list items both ways: "headers.1.name" and "headers[1].name".
  const loc = dotted.replace(/\.(\d+)(?=\.|$)/g, "[$1]");
  const fields = [...form.querySelectorAll("[data-loc]")];
  let best = null;
  for (const field of fields) {
    const name = field.dataset.loc;
    const fits = loc === name || loc.startsWith(`${name}.`) || loc.startsWith(`${name}[`);
    if (fits && (!best || name.length > best.dataset.loc.length)) best = field;
  }
  return best;
}

// "Label: problem" for a problem listed away from the form (the preview's).
export function described(form, detail) {
  const field = fieldFor(form, detail.loc ?? "");
  return `${field ? labelOf(field) : detail.loc}: ${problemText(detail)}`;
}

export function clearProblems(form, list) {
  for (const note of form.querySelectorAll(".field-problem")) note.remove();
  for (const field of form.querySelectorAll("[aria-invalid]")) {
    field.removeAttribute("aria-invalid");
    const described = (field.getAttribute("aria-describedby") ?? "")
      .split(" ")
      .filter((id) => id && !id.endsWith("-problem"));
    if (described.length) field.setAttribute("aria-describedby", described.join(" "));
    else field.removeAttribute("aria-describedby");
  }
  list.replaceChildren();
  list.hidden = true;
}

function labelOf(field) {
  if (field.labels?.length) return field.labels[0].textContent;
  const legend = field.closest("fieldset")?.querySelector("legend");
  return legend ? legend.textContent : field.dataset.loc;
}

// `box` is the form's alert region: a summary, then the list of problems.
export function showProblems(form, box, details) {
  clearProblems(form, box);
  const list = el("ul");
  box.append(el("p", { className: "summary", text: t("problem.summary", { count: details.length }) }), list);
  for (const detail of details) {
    const field = fieldFor(form, detail.loc ?? "");
    // "Too short" of an empty field is, in the merchant's words, a field to fill in.
    const empty = field && "value" in field && field.value.trim() === "" && detail.type === "string_too_short";
    const text = problemText(empty ? { ...detail, type: "missing" } : detail);
    if (!field) {
      list.append(el("li", { text: `${detail.loc}: ${text}` }));
      continue;
    }
    if (!field.id) field.id = `field-${Math.random().toString(36).slice(2)}`;
    const noteId = `${field.id}-problem`;
    let note = $(noteId);
    if (!note) {
      note = el("p", { className: "field-problem", attrs: { id: noteId } });
      field.after(note);
      field.setAttribute("aria-invalid", "true");
      const described = field.getAttribute("aria-describedby");
      field.setAttribute("aria-describedby", described ? `${described} ${noteId}` : noteId);
    }
    note.textContent = note.textContent ? `${note.textContent} ${text}` : text;
    const link = el("a", { text: `${labelOf(field)}: ${text}`, attrs: { href: `#${field.id}` } });
    link.addEventListener("click", (event) => {
      event.preventDefault();
      // A group of choices takes no focus itself: its first choice does.
      const target = field.matches("fieldset, div") ? field.querySelector("input, select, textarea") : field;
      target?.focus();
    });
    list.append(el("li", {}, link));
  }
  box.hidden = false;
  box.focus();
}
