import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { OpenApiDocument } from './types.js';

// ajv-formats is CommonJS with a default export; under NodeNext its namespace is what we get.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const CONTRACT_ID = 'urn:grex:contract';

/**
 * Validates values against the schemas of one bundled contract. OpenAPI 3.0
 * schemas are a dialect of JSON Schema draft 4/5; the differences that matter
 * (boolean exclusiveMinimum/Maximum, `nullable`, `example`) are converted here
 * once, so every caller (contract tests, the mock's validation) agrees.
 */
export class SchemaValidator {
  private readonly ajv: Ajv;
  private readonly cache = new WeakMap<object, ValidateFunction>();

  constructor(doc: OpenApiDocument) {
    this.ajv = new Ajv({ allErrors: true, strict: false, discriminator: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: CONTRACT_ID, components: { schemas: toJsonSchema(doc.components?.schemas ?? {}) } });
  }

  /** Compiles (once per schema object) and validates; returns ajv's errors, empty when valid. */
  check(schema: object, value: unknown): ErrorObject[] {
    let compiled = this.cache.get(schema);
    if (!compiled) {
      compiled = this.ajv.compile(toJsonSchema(schema) as object);
      this.cache.set(schema, compiled);
    }
    return compiled(value) ? [] : [...(compiled.errors ?? [])];
  }

  /** As `check`, as human-readable lines. */
  validate(schema: object, value: unknown): string[] {
    return this.check(schema, value).map((error) => `${error.instancePath || '(root)'} ${error.message ?? 'is invalid'}`.trim());
  }
}

export function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const source = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(source)) {
    if (key === 'example' || key === 'xml' || key === 'externalDocs' || key.startsWith('x-')) continue;
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/')) {
      out.$ref = `${CONTRACT_ID}${value}`;
    } else if ((key === 'exclusiveMinimum' || key === 'exclusiveMaximum') && typeof value === 'boolean') {
      const bound = key === 'exclusiveMinimum' ? 'minimum' : 'maximum';
      if (value) out[key] = source[bound];
    } else if ((key === 'minimum' || key === 'maximum') && source[key === 'minimum' ? 'exclusiveMinimum' : 'exclusiveMaximum'] === true) {
      continue;
    } else if (key === 'properties' && value && typeof value === 'object') {
      out.properties = Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, toJsonSchema(schema)]));
    } else {
      out[key] = toJsonSchema(value);
    }
  }
  return out;
}
