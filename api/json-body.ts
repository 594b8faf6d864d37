/** Request bodies as JSON, refusing the keys that pollute prototypes, with a 400 naming where. */

/** A body refused while parsing: not JSON, or a key that could reach an object's prototype. */
export class BodyError extends Error {
  readonly statusCode = 400;
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

/**
 * JSON.parse, refusing "__proto__" keys and "constructor" keys holding "prototype" anywhere in
 * the document (JSON.parse makes them own properties, but code that copies or merges the value
 * later would not). Walks iteratively: a body may nest deeper than the call stack.
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw new BodyError('body', 'empty, but content-type is application/json');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BodyError('body', `not valid JSON (${(err as Error).message})`);
  }
  if (!/__proto__|constructor|\\u/.test(text)) return value;
  const stack: { node: unknown; path: string }[] = [{ node: value, path: '' }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    for (const [key, inner] of Object.entries(node)) {
      const here = path ? `${path}.${key}` : key;
      const polluting = key === '__proto__' || (key === 'constructor' && inner !== null && typeof inner === 'object' && Object.hasOwn(inner, 'prototype'));
      if (polluting) throw new BodyError(key === '__proto__' ? here : `${here}.prototype`, 'not an accepted key');
      stack.push({ node: inner, path: here });
    }
  }
  return value;
}
