// The merchant portal. Every text comes from the message catalog of the chosen language and
// is written with textContent: nothing the API returns is ever read as HTML. The session
// lives in an HttpOnly cookie; this script holds only its CSRF token, in memory.

import { call, portalBase, useCsrf } from "./api.js";
import { $ } from "./dom.js";
import { chosenLanguage, language, rememberLanguage, t, useLanguage } from "./i18n.js";
import { go, problem, register, relabel, say } from "./screens.js";
import * as deliveries from "./deliveries.js";
import * as editor from "./editor.js";
import * as secret from "./secret.js";
import * as shipments from "./shipments.js";
import * as subscriptions from "./subscriptions.js";

function showLanguageSwitch() {
  const other = $("language");
  other.textContent = t("app.language");
  other.setAttribute("aria-label", t("app.language_label"));
  other.lang = language() === "pt-BR" ? "en" : "pt-BR";
}

function signedIn(session) {
  useCsrf(session.csrf_token);
  $("sign-out").hidden = false;
  $("merchant").textContent = t("subscriptions.merchant", { merchant: session.merchant_id });
  $("merchant").dataset.merchant = session.merchant_id;
  return go("subscriptions");
}

function signedOut() {
  useCsrf(null);
  $("sign-out").hidden = true;
  $("secret-value").textContent = "";
  delete $("merchant").dataset.merchant;
}

async function signInWith(body, invalidKey) {
  problem(null);
  say("signin.signing_in");
  const answer = await call("POST", "session", body);
  say(null);
  if (answer.status === 201) return signedIn(answer.body);
  await go("sign-in");
  if (answer.status === 401 || answer.status === 400) return problem(invalidKey);
  return problem(answer.status === 0 ? "app.error_network" : "app.error_unexpected");
}

async function switchLanguage() {
  const next = language() === "pt-BR" ? "en" : "pt-BR";
  rememberLanguage(next);
  await useLanguage(next);
  showLanguageSwitch();
  const merchant = $("merchant").dataset.merchant;
  if (merchant) $("merchant").textContent = t("subscriptions.merchant", { merchant });
  await relabel();
}

async function start() {
  await useLanguage(chosenLanguage());
  showLanguageSwitch();
  register("sign-in", { open: signedOut });
  subscriptions.setUp();
  editor.setUp();
  secret.setUp();
  deliveries.setUp();
  shipments.setUp();
  $("language").addEventListener("click", switchLanguage);
  $("key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = $("key").value.trim();
    $("key").value = "";
    if (!key) return problem("signin.key_missing");
    await signInWith({ key }, "signin.key_invalid");
  });
  $("sign-out").addEventListener("click", async () => {
    await call("DELETE", "session");
    await go("sign-in");
    say("signin.signed_out");
  });
  const link = new URLSearchParams(location.hash.slice(1)).get("link");
  if (link) {
    // Out of the address bar and the history before anything else.
    history.replaceState(null, "", portalBase.pathname);
    await signInWith({ link }, "signin.link_invalid");
    return;
  }
  const session = await call("GET", "session");
  if (session.ok) return signedIn(session.body);
  await go("sign-in");
}

start();
