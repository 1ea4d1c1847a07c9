// The merchant API, called as the signed-in merchant under /portal/api/v1/...: the session
// is an HttpOnly cookie the script cannot read; the CSRF token is held here, in memory only.

const base = new URL("../", import.meta.url);
const session = { csrf: null };

export function useCsrf(token) {
  session.csrf = token;
}

export function signedIn() {
  return session.csrf !== null;
}

export async function call(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && session.csrf) headers["x-csrf-token"] = session.csrf;
  let answer;
  try {
    answer = await fetch(new URL(path, base), {
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

export function merchantApi(method, path, body) {
  return call(method, `api/v1/${path}`, body);
}

// The API's problem list: [{loc, message, type}], empty when the answer has none.
export function problemsOf(answer) {
  const details = answer.body?.error?.details;
  return Array.isArray(details) ? details : [];
}

export function errorCodeOf(answer) {
  return answer.body?.error?.code ?? null;
}

export const portalBase = base;

// For answers that may come back out of order: `start()` begins a request and gives a check
// that says whether it is still the newest one (else its answer is dropped); `drop()` makes
// every request under way stale, without starting one.
export function newestOnly() {
  let latest = 0;
  return {
    start() {
      const mine = ++latest;
      return () => mine === latest;
    },
    drop() {
      latest += 1;
    },
  };
}
