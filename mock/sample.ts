import { deref } from '../contracts/lib/operations.js';
import type { Json, JsonObject, OpenApiDocument } from '../contracts/lib/types.js';

const STRING_FORMATS: Record<string, string> = {
  date: '2026-01-01',
  'date-time': '2026-01-01T00:00:00Z',
  uuid: '00000000-0000-0000-0000-000000000000',
  email: 'user@example.com',
  uri: 'https://example.com/',
};

/** `string` cut or padded to the schema's minLength and maxLength (Swashbuckle writes them from [StringLength], [MaxLength]). */
function lengthWithin(text: string, schema: JsonObject): string {
  const longest = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
  const shortest = typeof schema.minLength === 'number' ? schema.minLength : 0;
  return text.slice(0, longest).padEnd(Math.min(shortest, longest), 'x');
}

/** 0, or the nearest number the schema's minimum and maximum allow (exclusive bounds as OpenAPI 3.0 writes them, or 3.1). */
function numberWithin(schema: JsonObject): number {
  const step = schema.type === 'integer' ? 1 : 0.5;
  const low = typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + step : typeof schema.minimum === 'number' ? schema.minimum + (schema.exclusiveMinimum === true ? step : 0) : undefined;
  const high = typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum - step : typeof schema.maximum === 'number' ? schema.maximum - (schema.exclusiveMaximum === true ? step : 0) : undefined;
  if (low !== undefined && low > 0) return low;
  if (high !== undefined && high < 0) return high;
  return 0;
}

/** Deep enough for any G-REX answer; a schema that refers to itself stops here. */
const MAX_DEPTH = 8;

/**
 * A value a schema accepts, for an operation with no example (G-REX's own
 * swagger.json rarely has any): the schema's example, default or first enum
 * value where it gives one, else the simplest value of its type, every
 * property filled. Prism's static mocking does the same.
 */
export function sampleOf(doc: OpenApiDocument, node: unknown, depth = 0): Json {
  const schema = deref<JsonObject>(doc, node ?? {});
  if ('example' in schema) return schema.example;
  if ('default' in schema) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  if (depth >= MAX_DEPTH) return null;
  const all = Array.isArray(schema.allOf) ? schema.allOf : [];
  if (all.length) return Object.assign({}, ...all.map((member) => sampleOf(doc, member, depth + 1)));
  const one = (Array.isArray(schema.oneOf) ? schema.oneOf : Array.isArray(schema.anyOf) ? schema.anyOf : [])[0];
  if (one) return sampleOf(doc, one, depth + 1);
  const type = schema.type ?? (schema.properties ? 'object' : schema.items ? 'array' : undefined);
  switch (type) {
    case 'object':
      return Object.fromEntries(Object.entries((schema.properties ?? {}) as JsonObject).map(([name, property]) => [name, sampleOf(doc, property, depth + 1)]));
    case 'array':
      return [sampleOf(doc, schema.items, depth + 1)];
    case 'integer':
    case 'number':
      return numberWithin(schema);
    case 'boolean':
      return false;
    case 'string':
      return STRING_FORMATS[String(schema.format)] ?? lengthWithin('string', schema);
    default:
      return null;
  }
}
