/**
 * The JSON schemas of a scope and of a method's attributes, built from the configured attribute
 * names (the known four and METHOD_ATTRIBUTES), so that an unknown name is a 400 naming it and
 * the OpenAPI document lists exactly the names this deployment takes. Typed as the static shapes
 * the type provider reads: a scope's known dimensions, and attributes as a map of strings.
 */
const ID = '^[a-z0-9_-]{1,60}$';
const value = { type: 'string', pattern: ID } as const;

/** The static shape of a method's attributes, as the type provider reads them: a map of ids. */
type AttributesShape = { readonly type: 'object'; readonly additionalProperties: typeof value };

/** A method's attributes: `{"issuer": "hdfc", "network": "visa", "type": "credit"}`. */
export function attributesSchema(names: readonly string[]): AttributesShape {
  return {
    type: 'object',
    additionalProperties: false,
    description: `The method's attributes, each an id: ${names.join(', ')}.`,
    properties: Object.fromEntries(names.map((n) => [n, value])),
  } as unknown as AttributesShape;
}

const scopeShape = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    mode: { type: 'string', pattern: '^[a-z0-9_]{1,40}$' },
    method: { type: 'string', pattern: '^[a-z0-9_]{1,40}:[a-z0-9_]{1,60}$' },
    issuer: value,
    network: value,
    type: value,
    psp: value,
    gateway: value,
    aggregator: value,
  },
} as const;

/** A scope: instrument dimensions (mode, method, the attributes) and one processor (gateway or aggregator). */
export function scopeSchema(names: readonly string[]): typeof scopeShape {
  return {
    ...scopeShape,
    description:
      'What the downtime covers: any of mode, method and the method attributes, and at most one of gateway and aggregator; e.g. {"network": "visa"}, {"issuer": "hdfc", "gateway": "payu"}, {"aggregator": "juspay"}. A method carries its attributes from the catalog, so a scope names a method or attributes, not both.',
    properties: { ...scopeShape.properties, ...Object.fromEntries(names.map((n) => [n, value])) },
  } as unknown as typeof scopeShape;
}
