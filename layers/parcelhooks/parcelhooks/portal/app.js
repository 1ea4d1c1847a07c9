// The merchant portal. Every text comes from the message catalog of the chosen language and
// is written with textContent: nothing the API returns is ever read as HTML. The session
// lives in an HttpOnly cookie; this script holds only its CSRF token, in memory.

const base = location.pathname.endsWith("/") ? location.pathname : `${location.pathname}/`;
const LANGUAGE_KEY = "parcelhooks.language";
const LANGUAGES = ["pt-BR", "en"];
const state = { csrf: null, merchant: null, messages: {}, language: "pt-BR", open: null };

const $ = (id) => document.getElementById(id);

function t(key, values = {}) {
  const text = state.messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

async function useLanguage(language) {
  state.language = LANGUAGES.includes(language) ? language : "pt-BR";
  const answer = await fetch(`${base}assets/${state.language}.json`);
  state.messages = await answer.json();
  document.documentElement.lang = state.language;
  for (const element of document.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of document.querySelectorAll("[data-i18n-aria]")) {
    element.setAttribute("aria-label", t(element.dataset.i18nAria));
  }
  const other = $("language");
  other.textContent = t("app.language");
  other.setAttribute("aria-label", t("app.language_label"));
  other.lang = state.language === "pt-BR" ? "en" : "pt-BR";
}

function say(key, values) {
  $("status").textContent = key ? t(key, values) : "";
}

function problem(key) {
  const element = $("problem");
  element.hidden = !key;
  element.textContent = key ? t(key) : "";
}

async function call(method, path, body) {
  const headers = { "content-type": "application/json" };
  if (method !== "GET" && state.csrf) headers["x-csrf-token"] = state.csrf;
  let answer;
  try {
    answer = await fetch(`${base}${path}`, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { ok: false, status: 0, body: null };
  }
  const text = await answer.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  return { ok: answer.ok, status: answer.status, body: parsed };
}

function signedIn(session) {
  state.csrf = session.csrf_token;
  state.merchant = session.merchant_id;
  $("sign-in").hidden = true;
  $("sign-out").hidden = false;
  $("subscriptions").hidden = false;
  $("merchant").textContent = t("subscriptions.merchant", { merchant: session.merchant_id });
  return loadSubscriptions();
}

function showSignIn() {
  state.csrf = null;
  state.open = null;
  $("sign-in").hidden = false;
  $("sign-out").hidden = true;
  $("subscriptions").hidden = true;
  $("deliveries").hidden = true;
}

function when(iso) {
  // In the browser's time zone, written as its language writes dates.
  return new Intl.DateTimeFormat(state.language, { dateStyle: "short", timeStyle: "medium" })
    .format(new Date(iso));
}

function button(text, label, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  if (label) element.setAttribute("aria-label", label);
  element.addEventListener("click", onClick);
  return element;
}

async function openDeliveries(subscription) {
  state.open = subscription;
  $("subscriptions").hidden = true;
  $("deliveries").hidden = false;
  $("deliveries-of").textContent = t("deliveries.of", { destination: destinationOf(subscription) });
  $("deliveries-title").focus();
  await loadDeliveries();
}

async function closeDeliveries() {
  state.open = null;
  $("deliveries").hidden = true;
  $("subscriptions").hidden = false;
  await loadSubscriptions();
}

async function loadDeliveries() {
  say("app.loading");
  const path = `api/v1/subscriptions/${encodeURIComponent(state.open.id)}/deliveries?limit=100`;
  const answer = await call("GET", path);
  if (!answer.ok) return failed(answer);
  const rows = $("delivery-rows");
  rows.replaceChildren();
  for (const attempt of answer.body.data) {
    const row = rows.insertRow();
    cell(row, t("deliveries.when"), when(attempt.attempted_at));
    cell(row, t("deliveries.event"), attempt.event_type);
    const detail = attempt.status_code === null
      ? t("deliveries.attempt_no_status", { attempt: attempt.attempt })
      : t("deliveries.attempt", { attempt: attempt.attempt, status: attempt.status_code });
    cell(row, t("deliveries.outcome"), `${t(`outcome.${attempt.outcome}`)} — ${detail}`);
    const excerpt = cell(row, t("deliveries.answer"), attempt.error ?? attempt.response_excerpt);
    excerpt.className = "excerpt";
    const action = cell(row, t("deliveries.action"), "");
    if (attempt.outcome !== "delivered" && attempt.outcome !== "deferred") {
      const label = t("deliveries.retry_label", { event: attempt.event_type });
      action.append(button(t("deliveries.retry"), label, () => retry(attempt)));
    }
  }
  const none = answer.body.data.length === 0;
  $("deliveries-empty").hidden = !none;
  $("delivery-table").hidden = none;
  say("deliveries.loaded", { count: answer.body.data.length });
}

async function retry(attempt) {
  problem(null);
  say("deliveries.retrying");
  const path = `api/v1/deliveries/${encodeURIComponent(attempt.delivery_id)}/retry`;
  const answer = await call("POST", path, {});
  if (!answer.ok) return failed(answer);
  say("deliveries.retried");
}

function destinationOf(subscription) {
  if (subscription.kind === "email") {
    return t("subscriptions.email", { to: subscription.email ? subscription.email.to : "" });
  }
  return subscription.url ?? "";
}

function cell(row, label, text) {
  const td = row.insertCell();
  td.dataset.label = label;
  td.textContent = text;
  return td;
}

async function loadSubscriptions() {
  say("app.loading");
  const answer = await call("GET", "api/v1/subscriptions?limit=100");
  if (!answer.ok) return failed(answer);
  const rows = $("subscription-rows");
  rows.replaceChildren();
  for (const subscription of answer.body.data) {
    const row = rows.insertRow();
    cell(row, t("subscriptions.destination"), destinationOf(subscription));
    const events = subscription.event_types.includes("*")
      ? t("subscriptions.all_events")
      : subscription.event_types.join(", ");
    cell(row, t("subscriptions.events"), events);
    cell(row, t("subscriptions.description"), subscription.description ?? "");
    const badge = document.createElement("span");
    badge.className = `badge ${subscription.enabled ? "on" : "off"}`;
    badge.textContent = t(subscription.enabled ? "subscriptions.enabled" : "subscriptions.disabled");
    cell(row, t("subscriptions.state"), "").append(badge);
    const label = t("subscriptions.deliveries_of", { destination: destinationOf(subscription) });
    cell(row, t("deliveries.action"), "").append(
      button(t("subscriptions.deliveries"), label, () => openDeliveries(subscription)),
    );
  }
  const none = answer.body.data.length === 0;
  $("empty").hidden = !none;
  $("subscription-table").hidden = none;
  say("subscriptions.loaded", { count: answer.body.data.length });
}

function failed(answer) {
  say(null);
  if (answer.status === 401) {
    showSignIn();
    return;
  }
  problem(answer.status === 0 ? "app.error_network" : "app.error_unexpected");
}

async function signInWith(body, invalidKey) {
  problem(null);
  say("signin.signing_in");
  const answer = await call("POST", "session", body);
  say(null);
  if (answer.status === 201) return signedIn(answer.body);
  showSignIn();
  if (answer.status === 401 || answer.status === 400) return problem(invalidKey);
  return problem(answer.status === 0 ? "app.error_network" : "app.error_unexpected");
}

async function start() {
  await useLanguage(localStorage.getItem(LANGUAGE_KEY) ?? "pt-BR");
  $("language").addEventListener("click", async () => {
    const next = state.language === "pt-BR" ? "en" : "pt-BR";
    localStorage.setItem(LANGUAGE_KEY, next);
    await useLanguage(next);
    if (state.csrf && state.open) await loadDeliveries();
    else if (state.csrf) await loadSubscriptions();
  });
  $("back").addEventListener("click", closeDeliveries);
  $("refresh").addEventListener("click", loadDeliveries);
  $("key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = $("key").value.trim();
    $("key").value = "";
    if (!key) return problem("signin.key_missing");
    await signInWith({ key }, "signin.key_invalid");
  });
  $("sign-out").addEventListener("click", async () => {
    await call("DELETE", "session");
    showSignIn();
    say("signin.signed_out");
  });
  const link = new URLSearchParams(location.hash.slice(1)).get("link");
  if (link) {
    // Out of the address bar and the history before anything else.
    history.replaceState(null, "", base);
    await signInWith({ link }, "signin.link_invalid");
    return;
  }
  const session = await call("GET", "session");
  if (session.ok) return signedIn(session.body);
  showSignIn();
}

start();
