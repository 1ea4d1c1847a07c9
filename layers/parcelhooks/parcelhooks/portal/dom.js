// Small DOM helpers. Text goes in with textContent only: nothing is ever parsed as HTML.

export const $ = (id) => document.getElementById(id);

export function el(tag, options = {}, ...children) {
  const element = document.createElement(tag);
  if (options.text !== undefined) element.textContent = options.text;
  if (options.className) element.className = options.className;
  for (const [name, value] of Object.entries(options.attrs ?? {})) {
    if (value !== undefined && value !== null) element.setAttribute(name, value);
  }
  element.append(...children);
  return element;
}

export function button(text, label, onClick, className) {
  const element = el("button", { text, className, attrs: { type: "button" } });
  if (label) element.setAttribute("aria-label", label);
  element.addEventListener("click", onClick);
  return element;
}

export function cell(row, label, text) {
  const td = row.insertCell();
  td.dataset.label = label;
  td.textContent = text ?? "";
  return td;
}

export function pre(text) {
  return el("pre", { className: "code", text, attrs: { tabindex: "0" } });
}

export async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
