// A shipment's timeline by tracking code: every event in sequence, with the buyer's sentence
// in the chosen language, and the marks of the parcel domain (stale, withdrawn, correction).

import { merchantApi } from "./api.js";
import { $, el } from "./dom.js";
import { language, t, when } from "./i18n.js";
import { failed, register, say, go } from "./screens.js";
import { eventName } from "./subscriptions.js";

const state = { code: "" };

function sentenceOf(event) {
  const message = event.message ?? {};
  return language() === "pt-BR" ? message.pt_BR : message.en;
}

function entry(event) {
  const data = event.data;
  const item = el("li", { className: event.withdrawn_by ? "withdrawn" : "" });
  const head = el("p", { className: "timeline-head" });
  head.append(
    el("strong", { text: t("shipment.sequence", { sequence: data.sequence ?? "" }) }),
    " ",
    el("span", { text: eventName(event.type) }),
    " · ",
    el("time", { text: when(event.timestamp), attrs: { datetime: event.timestamp } }),
  );
  item.append(head);
  const sentence = sentenceOf(event);
  if (sentence) item.append(el("p", { text: sentence }));
  const facts = [];
  if (data.status_detail) facts.push(t("shipment.detail", { detail: data.status_detail }));
  if (data.carrier_status?.description) facts.push(data.carrier_status.description);
  if (data.description) facts.push(data.description);
  if (facts.length) item.append(el("p", { className: "help", text: facts.join(" · ") }));
  const marks = el("p", { className: "marks" });
  if (data.stale) marks.append(el("span", { className: "badge failing", text: t("shipment.stale") }));
  if (event.withdrawn_by) marks.append(el("span", { className: "badge disabled", text: t("shipment.withdrawn") }));
  if (event.type === "shipment.correction") {
    marks.append(el("span", { className: "badge paused", text: t("shipment.correction") }));
  }
  if (data.action_required) marks.append(el("span", { className: "badge failing", text: t("shipment.action_required") }));
  if (marks.childNodes.length) item.append(marks);
  return item;
}

async function look(event) {
  event?.preventDefault();
  const code = $("tracking-code").value.trim();
  const out = $("shipment-output");
  out.replaceChildren();
  if (!code) return say("shipment.need_code");
  state.code = code;
  say("app.loading");
  const answer = await merchantApi("GET", `shipments/${encodeURIComponent(code)}`);
  if (answer.status === 404) return say("shipment.none", { code });
  if (!answer.ok) return failed(answer);
  for (const shipment of answer.body.data) {
    const status = shipment.status ? eventName(`shipment.${shipment.status}`) : t("shipment.no_status");
    out.append(
      el("h3", { text: t("shipment.at", { carrier: shipment.carrier, code: shipment.tracking_code }) }),
      el("p", { text: t("shipment.status", { status }) }),
    );
    const list = el("ol", { className: "timeline" });
    for (const item of shipment.events) list.append(entry(item));
    out.append(list);
    if (shipment.events_truncated) out.append(el("p", { className: "help", text: t("shipment.truncated") }));
  }
  say("shipment.loaded", { count: answer.body.data.length });
}

export function setUp() {
  $("shipment-form").addEventListener("submit", look);
  $("shipment-back").addEventListener("click", () => go("subscriptions"));
  register("shipment", {
    open: () => undefined,
    relabel: () => (state.code ? look() : undefined),
  });
}
