// A subscription's delivery log, newest first, with filters (outcome, event type, tracking
// code, time); each delivery in detail (the request and every answer); retry one, recover
// every failed or held one since a time.

import { merchantApi, newestOnly } from "./api.js";
import { $, button, cell, el, pre } from "./dom.js";
import { t, when } from "./i18n.js";
import { renderRequest } from "./editor.js";
import { failed, go, register, say } from "./screens.js";
import { destinationOf, eventName } from "./subscriptions.js";
import { eventTypeOptions } from "./event_types.js";

// `query` is the filters the first page was asked with (later pages keep them, as their
// cursor does); `listed` the deliveries already shown, whose older attempts offer no retry.
const state = { subscription: null, cursor: null, delivery: null, query: "", listed: new Set() };
// A slow answer never writes one subscription's log (or delivery) over another's.
const loads = newestOnly();
// A filtered page may come back empty with more after it: follow at most this many more.
const EMPTY_PAGES_FOLLOWED = 5;
const RETRYABLE = new Set(["retry", "exhausted", "disable", "held", "skipped_stale", "render_error"]);

function isoOf(localValue) {
  // A datetime-local value is the browser's own time zone; the API takes an instant.
  return localValue ? new Date(localValue).toISOString() : null;
}

function localInputValue(date) {
  const shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return shifted.toISOString().slice(0, 16);
}

function filters() {
  const params = new URLSearchParams({ limit: "50" });
  const until = $("filter-until").value;
  const chosen = {
    outcome: $("filter-outcome").value,
    event_type: $("filter-event-type").value,
    tracking_code: $("filter-tracking").value.trim(),
    since: isoOf($("filter-since").value),
    // The field has minutes; "until 10:00" means to the end of that minute.
    until: until ? new Date(new Date(until).getTime() + 59_999).toISOString() : null,
  };
  for (const [name, value] of Object.entries(chosen)) if (value) params.set(name, value);
  return params;
}

export function outcomeText(attempt) {
  const detail = attempt.status_code === null
    ? t("deliveries.attempt_no_status", { attempt: attempt.attempt })
    : t("deliveries.attempt", { attempt: attempt.attempt, status: attempt.status_code });
  return `${t(`outcome.${attempt.outcome}`)} — ${detail}`;
}

function retryButton(attempt) {
  const label = t("deliveries.retry_label", { event: attempt.event_type });
  return button(t("deliveries.retry"), label, () => retry(attempt.delivery_id));
}

function appendAttempts(rows, attempts, { withDetail }) {
  for (const [index, attempt] of attempts.entries()) {
    const row = rows.insertRow();
    cell(row, t("deliveries.when"), when(attempt.attempted_at));
    cell(row, t("deliveries.event"), eventName(attempt.event_type));
    cell(row, t("deliveries.outcome"), outcomeText(attempt));
    const answer = cell(row, t("deliveries.answer"), attempt.error ?? attempt.response_excerpt);
    answer.className = "excerpt";
    const actions = el("div", { className: "row-actions" });
    if (withDetail) {
      const label = t("deliveries.detail_label", { event: attempt.event_type, when: when(attempt.attempted_at) });
      actions.append(button(t("deliveries.detail"), label, () => go("delivery", attempt.delivery_id), "secondary"));
    }
    // Only a delivery's latest attempt (the first listed, newest first) says whether it needs
    // sending again: a retry re-sends even a delivered one.
    const latest = withDetail ? !state.listed.has(attempt.delivery_id) : index === 0;
    if (withDetail) state.listed.add(attempt.delivery_id);
    if (latest && RETRYABLE.has(attempt.outcome)) actions.append(retryButton(attempt));
    cell(row, t("deliveries.action"), "").append(actions);
  }
}

async function load({ more } = { more: false }) {
  if (!more) {
    state.cursor = null;
    state.query = filters().toString();
    state.listed = new Set();
  }
  const newest = loads.start();
  say("app.loading");
  const id = encodeURIComponent(state.subscription.id);
  const rows = $("delivery-rows");
  if (!more) rows.replaceChildren();
  let shown = 0;
  for (let page = 0; page <= EMPTY_PAGES_FOLLOWED; page += 1) {
    const params = new URLSearchParams(state.query);
    if (state.cursor) params.set("cursor", state.cursor);
    const answer = await merchantApi("GET", `subscriptions/${id}/deliveries?${params}`);
    if (!newest()) return;
    if (!answer.ok) return failed(answer);
    appendAttempts(rows, answer.body.data, { withDetail: true });
    shown += answer.body.data.length;
    state.cursor = answer.body.next_cursor;
    if (shown > 0 || !state.cursor) break;
  }
  $("more-deliveries").hidden = !state.cursor;
  const none = rows.rows.length === 0;
  $("deliveries-empty").hidden = !none;
  $("delivery-table").hidden = none;
  say("deliveries.loaded", { count: rows.rows.length });
}

async function showHeld() {
  const shown = state.subscription.id;
  const answer = await merchantApi("GET", `subscriptions/${encodeURIComponent(shown)}`);
  if (!answer.ok || state.subscription.id !== shown) return;
  state.subscription = answer.body;
  const held = answer.body.health?.held ?? 0;
  const notice = $("held-notice");
  notice.hidden = held === 0 && answer.body.enabled;
  notice.textContent = answer.body.enabled
    ? t("deliveries.held", { count: held })
    : t("deliveries.disabled", { reason: answer.body.disabled_reason ?? "" });
}

async function retry(deliveryId) {
  say("deliveries.retrying");
  const answer = await merchantApi("POST", `deliveries/${encodeURIComponent(deliveryId)}/retry`, {});
  if (!answer.ok) return failed(answer);
  say("deliveries.retried");
}

async function recover(event) {
  event.preventDefault();
  const since = isoOf($("recover-since").value);
  if (!since) return say("deliveries.recover_needs_since");
  say("deliveries.recovering");
  const id = encodeURIComponent(state.subscription.id);
  const answer = await merchantApi("POST", `subscriptions/${id}/recover`, { since });
  if (!answer.ok) return failed(answer);
  const { recovered, held, truncated } = answer.body;
  say(truncated ? "deliveries.recovered_more" : "deliveries.recovered", { count: recovered, held });
  await showHeld();
}

async function open(subscription) {
  // Another subscription's log starts unfiltered; back from a delivery, the filters stay.
  if (state.subscription?.id !== subscription.id) $("deliveries-filters").reset();
  state.subscription = subscription;
  // Nothing of the last subscription's log stays on screen while this one's loads.
  loads.drop();
  $("delivery-rows").replaceChildren();
  $("delivery-table").hidden = true;
  $("deliveries-empty").hidden = true;
  $("more-deliveries").hidden = true;
  $("deliveries-of").textContent = t("deliveries.of", { destination: destinationOf(subscription) });
  eventTypeOptions($("filter-event-type"), "deliveries.any_event");
  if (!$("filter-event-type").querySelector('option[value="webhook.test"]')) {
    $("filter-event-type").append(
      el("option", { text: t("deliveries.test_events"), attrs: { value: "webhook.test" } }),
    );
  }
  if (!$("recover-since").value) {
    $("recover-since").value = localInputValue(new Date(Date.now() - 24 * 3600 * 1000));
  }
  await showHeld();
  await load();
}

// ---- one delivery ---------------------------------------------------------------------------

async function openDelivery(deliveryId) {
  state.delivery = deliveryId;
  for (const id of ["delivery-of", "delivery-ids", "delivery-body", "delivery-request", "attempt-rows"]) {
    $(id).replaceChildren();
  }
  const newest = loads.start();
  say("app.loading");
  const answer = await merchantApi("GET", `deliveries/${encodeURIComponent(deliveryId)}`);
  if (!newest()) return;
  if (!answer.ok) return failed(answer);
  const delivery = answer.body;
  $("delivery-of").textContent = t("delivery.of", {
    event: eventName(delivery.event_type),
    type: delivery.event_type,
  });
  $("delivery-ids").textContent = t("delivery.ids", { delivery: delivery.delivery_id, event: delivery.event_id });
  const body = $("delivery-body");
  body.replaceChildren(pre(JSON.stringify(delivery.body, null, 2)));
  const request = $("delivery-request");
  request.replaceChildren();
  renderRequest(request, delivery);
  const rows = $("attempt-rows");
  rows.replaceChildren();
  appendAttempts(rows, delivery.attempts, { withDetail: false });
  say("delivery.loaded", { count: delivery.attempts.length });
}

export function setUp() {
  $("deliveries-back").addEventListener("click", () => go("subscriptions"));
  $("delivery-back").addEventListener("click", () => go("deliveries", state.subscription));
  $("delivery-refresh").addEventListener("click", () => openDelivery(state.delivery));
  $("deliveries-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  $("refresh").addEventListener("click", () => load());
  $("more-deliveries").addEventListener("click", () => load({ more: true }));
  $("recover-form").addEventListener("submit", recover);
  register("deliveries", { open, relabel: open });
  register("delivery", { open: openDelivery, relabel: openDelivery });
}
