// The message catalogs: one per language, the same keys in each. Every text the page shows
// comes from here; the markup names keys (data-i18n), never words.

export const LANGUAGES = ["pt-BR", "en"];
const LANGUAGE_KEY = "parcelhooks.language";
const state = { language: "pt-BR", messages: {} };

export function t(key, values = {}) {
  const text = state.messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

export function has(key) {
  return Object.hasOwn(state.messages, key);
}

export function keysStartingWith(prefix) {
  return Object.keys(state.messages).filter((key) => key.startsWith(prefix));
}

export function language() {
  return state.language;
}

export function chosenLanguage() {
  return localStorage.getItem(LANGUAGE_KEY) ?? "pt-BR";
}

export function rememberLanguage(choice) {
  localStorage.setItem(LANGUAGE_KEY, choice);
}

export async function useLanguage(choice) {
  state.language = LANGUAGES.includes(choice) ? choice : "pt-BR";
  const answer = await fetch(new URL(`${state.language}.json`, import.meta.url));
  state.messages = await answer.json();
  document.documentElement.lang = state.language;
  translate(document);
}

export function translate(root) {
  for (const element of root.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of root.querySelectorAll("[data-i18n-aria]")) {
    element.setAttribute("aria-label", t(element.dataset.i18nAria));
  }
}

// In the browser's time zone, written as the chosen language writes dates.
export function when(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(state.language, { dateStyle: "short", timeStyle: "medium" })
    .format(new Date(iso));
}

export function number(value) {
  return new Intl.NumberFormat(state.language).format(value);
}
