// One screen at a time: each is a <section> whose heading takes the focus when it opens, so
// keyboard and screen-reader users land where the new content starts.

import { $ } from "./dom.js";
import { t } from "./i18n.js";
import { errorCodeOf } from "./api.js";

const screens = {};
const current = { name: null, arg: undefined };

// `prepare` (optional, synchronous) writes what the heading says before it takes the focus.
export function register(name, { prepare, open, relabel }) {
  screens[name] = { prepare, open, relabel };
}

export async function go(name, arg) {
  for (const [other] of Object.entries(screens)) $(other).hidden = other !== name;
  current.name = name;
  current.arg = arg;
  problem(null);
  screens[name].prepare?.(arg);
  $(`${name}-title`)?.focus();
  await screens[name].open?.(arg);
}

// After a language switch: each screen writes its own texts again, keeping what was typed.
export async function relabel() {
  const screen = screens[current.name];
  if (screen?.relabel) await screen.relabel(current.arg);
}

export function say(key, values) {
  $("status").textContent = key ? t(key, values) : "";
}

export function problem(key, values) {
  const element = $("problem");
  element.hidden = !key;
  element.textContent = key ? t(key, values) : "";
}

// A failed call, told in the merchant's words; a lost session goes back to sign-in.
export function failed(answer) {
  say(null);
  if (answer.status === 401) {
    go("sign-in");
    problem("signin.expired");
    return;
  }
  if (answer.status === 0) return problem("app.error_network");
  const code = errorCodeOf(answer);
  const known = ["not_found", "subscription_disabled", "conflict", "limit_reached", "enqueue_failed"];
  if (known.includes(code)) return problem(`error.${code}`);
  if (answer.status === 400) return problem("error.invalid");
  return problem("app.error_unexpected");
}
