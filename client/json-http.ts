/** A small JSON-over-HTTP client for the API, as the checkout and operators call it: tests and benchmarks share it. */

export interface JsonReply<T = unknown> {
  status: number;
  /** The parsed JSON body, or the text when the body is not JSON. */
  body: T;
  text: string;
}

/** One call: a bearer key when given, a JSON body when given. */
export async function jsonRequest<T = unknown>(base: string, method: string, path: string, key?: string, payload?: unknown): Promise<JsonReply<T>> {
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: payload === undefined ? undefined : JSON.stringify(payload) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: body as T, text };
}

/** The calls bound to one base URL. */
export function jsonClient(base: string) {
  return {
    base,
    get: <T = unknown>(path: string, key?: string) => jsonRequest<T>(base, 'GET', path, key),
    post: <T = unknown>(path: string, key: string, payload: unknown) => jsonRequest<T>(base, 'POST', path, key, payload),
    put: <T = unknown>(path: string, key: string, payload: unknown) => jsonRequest<T>(base, 'PUT', path, key, payload),
  };
}
