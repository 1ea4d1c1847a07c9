// The subscription list: where each goes, what it receives, and how its endpoint is doing
// (the health badge, with held and pending counts), with the actions on each.

import { merchantApi, newestOnly } from "./api.js";
import { $, button, cell, el } from "./dom.js";
import { has, t } from "./i18n.js";
import { failed, go, register, say } from "./screens.js";

export function destinationOf(subscription) {
  if (subscription.kind === "email") {
    return t("subscriptions.email", { to: subscription.email ? subscription.email.to : "" });
  }
  return subscription.url ?? "";
}

export function eventName(type) {
  return has(`event_type.${type}`) ? t(`event_type.${type}`) : type;
}

export function eventsOf(subscription) {
  return subscription.event_types
    .map((type) => (type === "*" ? t("subscriptions.all_events") : eventName(type)))
    .join(", ");
}

function badge(health, subscription) {
  const state = health?.state ?? (subscription.enabled ? "healthy" : "disabled");
  const wrapper = el("span", { className: "health" });
  wrapper.append(el("span", { className: `badge ${state}`, text: t(`health.${state}`) }));
  if (health && (health.held > 0 || health.pending > 0)) {
    const counts = t("health.counts", { held: health.held, pending: health.pending });
    wrapper.append(el("span", { className: "counts", text: counts }));
  }
  if (!subscription.enabled && subscription.disabled_reason) {
    wrapper.append(el("span", { className: "counts", text: subscription.disabled_reason }));
  }
  return wrapper;
}

async function sendTest(subscription) {
  say("test.sending");
  const answer = await merchantApi(
    "POST",
    `subscriptions/${encodeURIComponent(subscription.id)}/test`,
    {},
  );
  if (!answer.ok) return failed(answer);
  if (answer.body.queued === false) {
    return say("test.filtered", { reasons: answer.body.filter_reasons.join("; ") });
  }
  say("test.queued");
}

async function withHealth(subscriptions) {
  // The list leaves health out; each subscription's own answer carries it.
  const answers = await Promise.all(
    subscriptions.map((s) => merchantApi("GET", `subscriptions/${encodeURIComponent(s.id)}`)),
  );
  return subscriptions.map((s, i) => (answers[i].ok ? answers[i].body : s));
}

const loads = newestOnly(); // a slower, older load never writes over a newer one

async function load() {
  const newest = loads.start();
  say("app.loading");
  const answer = await merchantApi("GET", "subscriptions?limit=100");
  if (!answer.ok) return newest() ? failed(answer) : undefined;
  const subscriptions = await withHealth(answer.body.data);
  if (!newest()) return;
  const rows = $("subscription-rows");
  rows.replaceChildren();
  for (const subscription of subscriptions) {
    const row = rows.insertRow();
    const destination = destinationOf(subscription);
    cell(row, t("subscriptions.destination"), destination);
    cell(row, t("subscriptions.events"), eventsOf(subscription));
    cell(row, t("subscriptions.description"), subscription.description ?? "");
    cell(row, t("subscriptions.state"), "").append(badge(subscription.health, subscription));
    const actions = el("div", { className: "row-actions" });
    actions.append(
      button(
        t("subscriptions.deliveries"),
        t("subscriptions.deliveries_of", { destination }),
        () => go("deliveries", subscription),
      ),
      button(
        t("subscriptions.edit"),
        t("subscriptions.edit_of", { destination }),
        () => go("editor", subscription),
        "secondary",
      ),
      button(
        t("subscriptions.test"),
        t("subscriptions.test_of", { destination }),
        () => sendTest(subscription),
        "secondary",
      ),
    );
    cell(row, t("subscriptions.actions"), "").append(actions);
  }
  const none = subscriptions.length === 0;
  $("empty").hidden = !none;
  $("subscription-table").hidden = none;
  say("subscriptions.loaded", { count: subscriptions.length });
}

export function setUp() {
  $("new-subscription").addEventListener("click", () => go("editor", null));
  $("open-shipment").addEventListener("click", () => go("shipment"));
  register("subscriptions", { open: load, relabel: load });
}
