// The signing secret, shown in full once: after a subscription is created and after a
// rotation (the old secret keeps signing for 24 hours beside the new one). With it, code to
// verify the signatures with the Standard Webhooks libraries, ready to copy.

import { $, button, el, copy } from "./dom.js";
import { t } from "./i18n.js";
import { go, register, say } from "./screens.js";
import { destinationOf } from "./subscriptions.js";

const LANGUAGES = [
  { id: "python", file: "verify-python.txt", name: "Python" },
  { id: "node", file: "verify-node.txt", name: "Node.js" },
  { id: "php", file: "verify-php.txt", name: "PHP" },
];
const snippets = {};

async function snippet(language) {
  if (!snippets[language.id]) {
    const answer = await fetch(new URL(language.file, import.meta.url));
    snippets[language.id] = answer.ok ? await answer.text() : "";
  }
  return snippets[language.id];
}

async function copied(text, whatKey) {
  say((await copy(text)) ? "secret.copied" : "secret.copy_failed", { what: t(whatKey) });
}

async function renderSnippets() {
  const box = $("snippets");
  box.replaceChildren();
  for (const language of LANGUAGES) {
    const code = await snippet(language);
    const headingId = `snippet-${language.id}`;
    box.append(
      el("h4", { text: language.name, attrs: { id: headingId } }),
      el("pre", { className: "code", text: code, attrs: { tabindex: "0", "aria-labelledby": headingId } }),
      button(
        t("secret.copy_code"),
        t("secret.copy_code_of", { language: language.name }),
        () => copied(code, "secret.code"),
        "secondary",
      ),
    );
  }
}

async function open({ subscription, rotated }) {
  $("secret-of").textContent = t("secret.of", { destination: destinationOf(subscription) });
  $("secret-value").textContent = subscription.secret;
  $("secret-rotated").hidden = !rotated;
  $("copy-secret").onclick = () => copied(subscription.secret, "secret.the_secret");
  await renderSnippets();
}

export function setUp() {
  $("secret-done").addEventListener("click", () => {
    // The secret is not kept anywhere once this screen is left.
    $("secret-value").textContent = "";
    go("subscriptions");
  });
  register("secret", { open, relabel: renderSnippets });
}
