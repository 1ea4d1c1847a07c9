// Creating and editing a subscription: a preset to start from, the event types by name and
// meaning, the destination (webhook or e-mail), and a live preview of what the destination
// will get, rendered by the API from the form as it stands. Secret header values are
// write-only: an edit shows them empty and keeps the stored value unless a new one is typed.

import { merchantApi, newestOnly, problemsOf } from "./api.js";
import { $, button, el, pre } from "./dom.js";
import { t } from "./i18n.js";
import { eventTypeOptions, eventTypes } from "./event_types.js";
import { clearProblems, described, problemText, showProblems } from "./fields.js";
import { failed, go, register, say } from "./screens.js";
import { destinationOf, eventName } from "./subscriptions.js";

const state = { editing: null, presets: null, headerCount: 0, timer: null };
const previews = newestOnly(); // a newer preview is always on its way: older answers dropped
const KEPT_SECRET = "********";
const METHODS = ["POST", "PUT", "PATCH"];

function form() {
  return $("editor-form");
}

function kind() {
  return form().elements.kind.value;
}

function showKind() {
  for (const part of form().querySelectorAll("[data-kind]")) {
    part.hidden = part.dataset.kind !== kind();
  }
}

// ---- event types --------------------------------------------------------------------------

function renderEventTypes(checked) {
  const list = $("event-types");
  list.replaceChildren();
  for (const type of eventTypes()) {
    const id = `event-${type.replace(/[^a-z0-9]/gi, "-")}`;
    const box = el("input", { attrs: { type: "checkbox", id, value: type, name: "event_types" } });
    box.checked = checked.includes(type);
    const meaningId = `${id}-meaning`;
    box.setAttribute("aria-describedby", meaningId);
    const label = el("label", { attrs: { for: id } });
    label.append(el("span", { text: eventName(type) }), " ", el("code", { text: type === "*" ? "*" : type }));
    const meaning = el("span", { className: "help", text: t(`event_meaning.${type}`), attrs: { id: meaningId } });
    list.append(el("div", { className: "check" }, box, el("div", {}, label, meaning)));
  }
}

function checkedEventTypes() {
  return [...form().querySelectorAll("input[name=event_types]:checked")].map((box) => box.value);
}

// ---- headers ------------------------------------------------------------------------------

function addHeader(header = { name: "", value: "", secret: false }, kept = false) {
  const index = state.headerCount++;
  const row = el("div", { className: "header-row", attrs: { "data-header": "" } });
  const nameId = `header-${index}-name`;
  const valueId = `header-${index}-value`;
  const secretId = `header-${index}-secret`;
  const name = el("input", { attrs: { id: nameId, autocomplete: "off", spellcheck: "false" } });
  name.value = header.name;
  const value = el("input", { attrs: { id: valueId, autocomplete: "off", spellcheck: "false" } });
  value.value = kept ? "" : header.value ?? "";
  if (kept) {
    value.dataset.kept = "true";
    value.setAttribute("aria-describedby", `${valueId}-kept`);
  }
  const secret = el("input", { attrs: { id: secretId, type: "checkbox" } });
  secret.checked = Boolean(header.secret);
  value.type = secret.checked ? "password" : "text";
  secret.addEventListener("change", () => {
    value.type = secret.checked ? "password" : "text";
  });
  const remove = button(t("editor.header_remove"), null, () => {
    row.remove();
    renumberHeaders();
    schedulePreview();
  }, "link");
  row.append(
    el("div", {}, el("label", { attrs: { for: nameId }, text: t("editor.header_name") }), name),
    el("div", {}, el("label", { attrs: { for: valueId }, text: t("editor.header_value") }), value,
      kept ? el("p", { className: "help", text: t("editor.secret_kept"), attrs: { id: `${valueId}-kept` } }) : ""),
    el("div", { className: "check" }, secret, el("label", { attrs: { for: secretId }, text: t("editor.header_secret") })),
    remove,
  );
  $("header-rows").append(row);
  renumberHeaders();
  return name;
}

// Each row's fields carry the loc the API names them by (headers[0].name, ...).
function renumberHeaders() {
  [...$("header-rows").querySelectorAll("[data-header]")].forEach((row, index) => {
    const [name, value] = row.querySelectorAll("input:not([type=checkbox])");
    name.dataset.loc = `headers[${index}].name`;
    value.dataset.loc = `headers[${index}].value`;
    const removeButton = row.querySelector("button");
    removeButton.setAttribute("aria-label", t("editor.header_remove_label", { number: index + 1 }));
  });
}

function headersOf(forPreview, problems) {
  return [...$("header-rows").querySelectorAll("[data-header]")].map((row, index) => {
    const [name, value] = row.querySelectorAll("input:not([type=checkbox])");
    const secret = row.querySelector("input[type=checkbox]").checked;
    const header = { name: name.value.trim(), secret };
    if (value.dataset.kept === "true" && value.value === "") {
      // Left empty, a stored secret stays (a preview masks it anyway); made public, it needs
      // a value: the stored one is never shown, so it cannot become the public one.
      if (!secret) problems.push({ loc: `headers[${index}].value`, message: "", type: "missing" });
      header.secret = true;
      if (forPreview) header.value = KEPT_SECRET;
    } else {
      header.value = value.value;
    }
    return header;
  });
}

// ---- the form as a request body -------------------------------------------------------------

function jsonField(id, loc, problems) {
  const text = $(id).value.trim();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch (error) {
    problems.push({ loc, message: String(error.message ?? error), type: "json_invalid" });
    return undefined;
  }
}

function textOrNull(id) {
  const text = $(id).value;
  return text.trim() ? text : null;
}

// The body for create (or, with `patch`, for PATCH) and the problems found before sending.
function bodyOf({ patch, forPreview }) {
  const problems = [];
  const body = { event_types: checkedEventTypes() };
  const description = $("description").value.trim();
  if (description || patch) body.description = description || null;
  const filter = jsonField("filter", "filter", problems);
  if (filter !== null || patch) body.filter = filter;
  const metadata = jsonField("metadata", "metadata", problems);
  body.metadata = metadata ?? {};
  body.include_stale = $("include-stale").checked;
  const inFlight = $("max-in-flight").value.trim();
  body.max_in_flight = inFlight === "" ? 16 : Number(inFlight);
  const rate = $("rate-limit").value.trim();
  if (rate !== "" || patch) body.rate_limit_per_second = rate === "" ? null : Number(rate);
  // Sent only when changed: `enabled: true` also resets the endpoint's circuit breaker.
  if (patch && $("enabled").checked !== state.editing.enabled) body.enabled = $("enabled").checked;
  if (!patch) body.kind = kind();
  if (kind() === "email") {
    body.email = {
      to: $("email-to").value.trim(),
      subject: $("email-subject").value,
      text: textOrNull("email-text"),
      html: textOrNull("email-html"),
    };
  } else {
    body.url = $("url").value.trim();
    body.method = $("method").value;
    body.content_type = $("content-type").value;
    body.headers = headersOf(forPreview, problems);
    const template = textOrNull("template");
    if (template !== null || patch) body.template = template;
    const username = $("basic-user").value;
    if (username) body.basic_auth = { username, password: $("basic-password").value };
  }
  return { body, problems };
}

// ---- presets ------------------------------------------------------------------------------

async function presets() {
  if (state.presets) return state.presets;
  const answer = await merchantApi("GET", "presets");
  if (!answer.ok) return []; // asked again next time
  state.presets = answer.body.data;
  return state.presets;
}

function presetName(preset) {
  const key = `preset.${preset.id}`;
  const named = t(key);
  return named === key ? preset.name : named;
}

function renderPresetChoice() {
  const select = $("preset");
  const chosen = select.value;
  select.replaceChildren(el("option", { text: t("editor.preset_blank"), attrs: { value: "" } }));
  for (const preset of state.presets ?? []) {
    select.append(el("option", { text: presetName(preset), attrs: { value: preset.id } }));
  }
  select.value = chosen;
  renderPresetFill();
}

function chosenPreset() {
  return (state.presets ?? []).find((preset) => preset.id === $("preset").value) ?? null;
}

function renderPresetFill() {
  const preset = chosenPreset();
  const fill = $("preset-fill");
  const typed = Object.fromEntries([...fill.querySelectorAll("input")].map((i) => [i.dataset.marker, i.value]));
  fill.replaceChildren();
  $("preset-about").replaceChildren();
  $("use-preset").disabled = !preset;
  if (!preset) return;
  const docs = el("a", {
    text: t("editor.preset_docs", { target: preset.target }),
    attrs: { href: preset.docs_url, target: "_blank", rel: "noopener noreferrer" },
  });
  $("preset-about").append(t("editor.preset_checked", { date: preset.checked_on }), " ", docs);
  preset.fill.forEach((marker, index) => {
    const id = `marker-${index}`;
    const key = `marker.${marker.name.replace(/[<>]/g, "")}`;
    const meaning = t(key) === key ? marker.meaning : t(key);
    const input = el("input", { attrs: { id, autocomplete: "off", "aria-describedby": `${id}-help` } });
    input.dataset.marker = marker.name;
    input.value = typed[marker.name] ?? "";
    fill.append(
      el("label", { attrs: { for: id }, text: marker.name }),
      input,
      el("p", { className: "help", attrs: { id: `${id}-help` }, text: t("editor.marker_example", { meaning, example: marker.example }) }),
    );
  });
}

function filled(value, markers) {
  if (typeof value === "string") {
    return Object.entries(markers).reduce((text, [marker, typed]) => (typed ? text.replaceAll(marker, typed) : text), value);
  }
  if (Array.isArray(value)) return value.map((item) => filled(item, markers));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, filled(v, markers)]));
  }
  return value;
}

function usePreset() {
  const preset = chosenPreset();
  if (!preset) return;
  const markers = Object.fromEntries(
    [...$("preset-fill").querySelectorAll("input")].map((input) => [input.dataset.marker, input.value.trim()]),
  );
  fillForm(filled(preset.subscription, markers), { kept: false });
  say("editor.preset_used", { name: presetName(preset) });
  $("kind-webhook").focus();
  schedulePreview();
}

// ---- filling the form -----------------------------------------------------------------------

function fillForm(subscription, { kept }) {
  const f = form();
  f.reset();
  f.elements.kind.value = subscription.kind ?? "webhook";
  $("url").value = subscription.url ?? "";
  $("method").value = subscription.method ?? "POST";
  $("content-type").value = subscription.content_type ?? "application/json";
  $("template").value = subscription.template ?? "";
  $("description").value = subscription.description ?? "";
  $("filter").value = subscription.filter ? JSON.stringify(subscription.filter, null, 2) : "";
  const metadata = subscription.metadata ?? {};
  $("metadata").value = Object.keys(metadata).length ? JSON.stringify(metadata, null, 2) : "";
  $("include-stale").checked = subscription.include_stale ?? true;
  $("max-in-flight").value = String(subscription.max_in_flight ?? 16);
  $("rate-limit").value = subscription.rate_limit_per_second ?? "";
  $("enabled").checked = subscription.enabled ?? true;
  const email = subscription.email ?? {};
  $("email-to").value = email.to ?? "";
  $("email-subject").value = email.subject ?? "";
  $("email-text").value = email.text ?? "";
  $("email-html").value = email.html ?? "";
  $("basic-user").value = subscription.basic_auth?.username ?? "";
  $("basic-password").value = subscription.basic_auth?.password ?? "";
  $("header-rows").replaceChildren();
  state.headerCount = 0;
  for (const header of subscription.headers ?? []) addHeader(header, kept && header.secret);
  renderEventTypes(subscription.event_types ?? []);
  showKind();
}

// ---- preview ------------------------------------------------------------------------------

function schedulePreview() {
  clearTimeout(state.timer);
  state.timer = setTimeout(preview, 600);
}

function previewType() {
  return $("preview-type").value || undefined;
}

function renderPreviewTypes() {
  eventTypeOptions($("preview-type"), "preview.first_type");
}

async function preview() {
  const newest = previews.start();
  const { body, problems } = bodyOf({ patch: false, forPreview: true });
  const out = $("preview-output");
  if (problems.length) return showPreviewProblems(problems);
  if (body.event_types.length === 0) {
    out.replaceChildren(el("p", { className: "help", text: t("preview.need_events") }));
    return;
  }
  $("preview-status").textContent = t("preview.updating");
  const answer = await merchantApi("POST", "subscriptions/preview", { subscription: body, event_type: previewType() });
  if (!newest()) return;
  $("preview-status").textContent = t("preview.updated");
  if (answer.status === 400) return showPreviewProblems(problemsOf(answer));
  if (!answer.ok) return failed(answer);
  renderPreview(answer.body);
}

function showPreviewProblems(problems) {
  $("preview-status").textContent = t("preview.not_ready");
  const list = el("ul", { className: "problems-inline" });
  for (const detail of problems) {
    // The preview's body holds the subscription under "subscription".
    const loc = (detail.loc ?? "").replace(/^subscription\./, "");
    list.append(el("li", { text: described(form(), { ...detail, loc }) }));
  }
  $("preview-output").replaceChildren(el("p", { text: t("preview.fix_first") }), list);
}

function headerTable(headers) {
  const table = el("table", { className: "compact" });
  table.append(el("caption", { className: "visually-hidden", text: t("preview.headers") }));
  const body = table.createTBody();
  for (const [name, value] of Object.entries(headers)) {
    const row = body.insertRow();
    row.append(el("th", { text: name, attrs: { scope: "row" } }));
    row.insertCell().textContent = value;
  }
  return table;
}

export function renderRequest(container, shown) {
  if (shown.render_error) {
    container.append(el("p", { className: "problem", text: t("preview.render_error", { error: shown.render_error }) }));
  }
  if (shown.request) {
    const request = shown.request;
    container.append(
      el("h4", { text: t("preview.request") }),
      el("p", {}, el("code", { text: `${request.method} ${request.url}` })),
      headerTable(request.headers),
      el("h4", { text: t("preview.body") }),
      pre(request.body),
    );
  }
  if (shown.email) {
    const email = shown.email;
    container.append(
      el("h4", { text: t("preview.email") }),
      el("p", { text: t("preview.email_to", { to: email.to }) }),
      el("p", { text: t("preview.email_subject", { subject: email.subject }) }),
    );
    if (email.text !== null) container.append(el("h4", { text: t("preview.email_text") }), pre(email.text));
    if (email.html !== null) container.append(el("h4", { text: t("preview.email_html") }), pre(email.html));
  }
}

function renderPreview(shown) {
  const out = $("preview-output");
  out.replaceChildren();
  out.append(el("p", { text: t("preview.event", { name: eventName(shown.event_type), type: shown.event_type }) }));
  if (!shown.matches) {
    out.append(el("p", { className: "problem", text: t("preview.filtered", { reasons: shown.filter_reasons.join("; ") }) }));
    return;
  }
  renderRequest(out, shown);
}

// ---- saving, rotating, deleting -------------------------------------------------------------

async function save(event) {
  event.preventDefault();
  const f = form();
  const list = $("editor-problems");
  clearProblems(f, list);
  const editing = state.editing;
  const { body, problems } = bodyOf({ patch: Boolean(editing), forPreview: false });
  if (problems.length) return showProblems(f, list, problems);
  say("editor.saving");
  const answer = editing
    ? await merchantApi("PATCH", `subscriptions/${encodeURIComponent(editing.id)}`, body)
    : await merchantApi("POST", "subscriptions", body);
  if (answer.status === 400 && problemsOf(answer).length) {
    say(null);
    return showProblems(f, list, problemsOf(answer));
  }
  if (!answer.ok) return failed(answer);
  if (editing) {
    say("editor.saved");
    return go("subscriptions");
  }
  say("editor.created");
  return go("secret", { subscription: answer.body, rotated: false });
}

async function rotate() {
  say("secret.rotating");
  const answer = await merchantApi("POST", `subscriptions/${encodeURIComponent(state.editing.id)}/rotate-secret`, {});
  if (!answer.ok) return failed(answer);
  say("secret.rotated");
  return go("secret", { subscription: answer.body, rotated: true });
}

function askDelete() {
  $("delete-confirm").hidden = false;
  $("delete-question").textContent = t("editor.delete_question", { destination: destinationOf(state.editing) });
  $("delete-no").focus();
}

async function confirmDelete() {
  say("editor.deleting");
  const answer = await merchantApi("DELETE", `subscriptions/${encodeURIComponent(state.editing.id)}`);
  if (!answer.ok) return failed(answer);
  say("editor.deleted");
  return go("subscriptions");
}

// ---- the screen ---------------------------------------------------------------------------

function titleFor(subscription) {
  $("editor-title").textContent = t(subscription ? "editor.title_edit" : "editor.title_new");
}

// While the subscription is read, the form takes no input: nothing typed can be overwritten.
function busy(loading) {
  $("editor-fields").disabled = loading;
  $("editor").setAttribute("aria-busy", String(loading));
}

async function open(subscription) {
  // Nothing of the last subscription's preview may land in this one's.
  clearTimeout(state.timer);
  previews.drop();
  $("preview-type").value = "";
  state.editing = subscription;
  const editing = Boolean(subscription);
  titleFor(subscription);
  $("preset-box").hidden = editing;
  $("editing-only").hidden = !editing;
  $("manage").hidden = !editing;
  $("delete-confirm").hidden = true;
  $("editor-of").textContent = editing ? destinationOf(subscription) : "";
  for (const radio of form().elements.kind) radio.disabled = editing;
  clearProblems(form(), $("editor-problems"));
  $("preview-output").replaceChildren(el("p", { className: "help", text: t("preview.intro") }));
  busy(true);
  fillForm(editing ? subscription : { event_types: [] }, { kept: editing });
  renderPreviewTypes();
  if (editing) {
    // The list's copy may be stale: read the subscription as it is now.
    const answer = await merchantApi("GET", `subscriptions/${encodeURIComponent(subscription.id)}`);
    if (!answer.ok) {
      busy(false);
      return failed(answer);
    }
    state.editing = answer.body;
    fillForm(answer.body, { kept: true });
  }
  busy(false);
  if (!editing) {
    $("preset").value = "";
    await presets();
    renderPresetChoice();
  }
  schedulePreview();
}

function relabel() {
  const checked = checkedEventTypes();
  $("editor-title").textContent = t(state.editing ? "editor.title_edit" : "editor.title_new");
  renderEventTypes(checked);
  renderPresetChoice();
  renderPreviewTypes();
  renumberHeaders();
  schedulePreview();
}

export function setUp() {
  for (const method of METHODS) $("method").append(el("option", { text: method, attrs: { value: method } }));
  const f = form();
  f.addEventListener("submit", save);
  f.addEventListener("input", schedulePreview);
  f.addEventListener("change", (event) => {
    if (event.target.name === "kind") showKind();
    schedulePreview();
  });
  $("add-header").addEventListener("click", () => {
    addHeader().focus();
    schedulePreview();
  });
  $("preset").addEventListener("change", renderPresetFill);
  $("use-preset").addEventListener("click", usePreset);
  $("preview-type").addEventListener("change", preview);
  $("preview-now").addEventListener("click", preview);
  $("editor-cancel").addEventListener("click", () => go("subscriptions"));
  $("rotate-secret").addEventListener("click", rotate);
  $("delete-subscription").addEventListener("click", askDelete);
  $("delete-no").addEventListener("click", () => {
    $("delete-confirm").hidden = true;
    $("delete-subscription").focus();
  });
  $("delete-yes").addEventListener("click", confirmDelete);
  register("editor", { prepare: (subscription) => titleFor(subscription), open, relabel });
}
