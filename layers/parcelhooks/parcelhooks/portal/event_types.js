// The event types, by name and meaning, from the message catalog (the same list as the API's).

import { el } from "./dom.js";
import { keysStartingWith, t } from "./i18n.js";

export function eventTypes() {
  return keysStartingWith("event_type.").map((key) => key.slice("event_type.".length));
}

// A <select> of the concrete types (not "*"), first choice "any", keeping what was chosen.
export function eventTypeOptions(select, anyKey) {
  const chosen = select.value;
  select.replaceChildren(el("option", { text: t(anyKey), attrs: { value: "" } }));
  for (const type of eventTypes().filter((type) => type !== "*")) {
    select.append(el("option", { text: `${t(`event_type.${type}`)} (${type})`, attrs: { value: type } }));
  }
  select.value = chosen;
}
