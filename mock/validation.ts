import type { ErrorObject } from 'ajv';
import { deref } from '../contracts/lib/operations.js';
import type { SchemaValidator } from '../contracts/lib/schema.js';
import type { JsonObject } from '../contracts/lib/types.js';
import type { Route } from './router.js';

export interface ValidRequest {
  path: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
  mediaType: string | null;
}

export type RequestCheck =
  | { ok: true; value: ValidRequest }
  /** `content-type`: the body's media type is not one the operation takes (`_004`). `model`: values break the contract (`_002`). */
  | { ok: false; kind: 'content-type' | 'model'; fields: string[]; details: string[]; /** The JSON Schema keywords each field broke (`maximum`, `required`…). */ broke: Record<string, string[]> };

interface ParameterRule {
  name: string;
  /** The header's name as Node keys `req.headers` (lower case). */
  key: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  type: string | undefined;
  schema: object | undefined;
}

const INTEGER = /^-?\d+$/;
const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function coerce(raw: string, type: string | undefined): unknown {
  switch (type) {
    case 'integer':
      return INTEGER.test(raw) ? Number(raw) : raw;
    case 'number':
      return NUMBER.test(raw) ? Number(raw) : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    default:
      return raw;
  }
}

/** Field names as the manual's `_002` message names them: `bundles[0].startCertificateId`. */
function fieldOf(error: ErrorObject, root: string): string {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('');
  const extra = error.params as { missingProperty?: string; additionalProperty?: string };
  const leaf = extra.missingProperty ?? extra.additionalProperty;
  const full = `${path}${leaf ? `.${leaf}` : ''}`.replace(/^\./, '');
  return full || root;
}

/**
 * Checks a request against its operation: path, query and header parameters
 * (converted from text by their schema type), the body's media type and the
 * body itself. Everything is compiled from the contract once per operation.
 */
export class RequestValidator {
  private readonly parameters: ParameterRule[];
  private readonly bodySchemas = new Map<string, object | undefined>();
  private readonly bodyRequired: boolean;

  constructor(
    route: Route,
    private readonly schemas: SchemaValidator,
  ) {
    const doc = route.contract.doc;
    this.parameters = route.parameters
      .filter((parameter) => parameter.in === 'path' || parameter.in === 'query' || parameter.in === 'header')
      .map((parameter) => {
        const schema = parameter.schema ? deref<JsonObject>(doc, parameter.schema) : undefined;
        return {
          name: String(parameter.name),
          key: String(parameter.name).toLowerCase(),
          in: parameter.in as ParameterRule['in'],
          required: parameter.required === true,
          type: schema?.type as string | undefined,
          schema: parameter.schema as object | undefined,
        };
      });
    const body = route.operation.requestBody ? deref<JsonObject>(doc, route.operation.requestBody) : undefined;
    this.bodyRequired = body?.required === true;
    for (const [mediaType, media] of Object.entries((body?.content as Record<string, JsonObject>) ?? {})) {
      this.bodySchemas.set(mediaType.toLowerCase(), media.schema as object | undefined);
    }
  }

  get takesBody(): boolean {
    return this.bodySchemas.size > 0;
  }

  /** `text`: the body already decoded as UTF-8, when the caller has it. */
  check(params: Readonly<Record<string, string>>, query: URLSearchParams, headers: Record<string, string | string[] | undefined>, body: Buffer | null, text?: string): RequestCheck {
    const fields: string[] = [];
    const details: string[] = [];
    const broke: Record<string, string[]> = {};
    const value: ValidRequest = { path: {}, query: {}, body: undefined, mediaType: null };
    for (const rule of this.parameters) {
      const raw = rule.in === 'path' ? params[rule.name] : rule.in === 'query' ? query.get(rule.name) : headers[rule.key];
      if (raw === undefined || raw === null || raw === '') {
        if (rule.required) {
          fields.push(rule.name);
          details.push(`${rule.name} is required`);
        }
        continue;
      }
      const text = Array.isArray(raw) ? raw[0] : raw;
      const converted = coerce(text, rule.type);
      const errors = rule.schema ? this.schemas.check(rule.schema, converted) : [];
      if (errors.length) {
        fields.push(rule.name);
        details.push(...errors.map((error) => `${rule.name} ${error.message ?? 'is invalid'}`));
        broke[rule.name] = errors.map((error) => error.keyword);
        continue;
      }
      if (rule.in === 'path') value.path[rule.name] = converted;
      else if (rule.in === 'query') value.query[rule.name] = converted;
    }

    if (this.takesBody) {
      const hasBody = body !== null && body.length > 0;
      const mediaType = String(headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (hasBody || mediaType) {
        if (!this.bodySchemas.has(mediaType)) {
          const details = [`Content-Type "${mediaType || '(none)'}" is not ${[...this.bodySchemas.keys()].join(' or ')}`];
          return { ok: false, kind: 'content-type', fields: ['Content-Type'], details, broke: {} };
        }
        value.mediaType = mediaType;
      }
      if (!hasBody) {
        if (this.bodyRequired) {
          fields.push('body');
          details.push('the request body is required');
        }
      } else {
        const parsed = parseBody(text ?? body.toString('utf8'), value.mediaType ?? '');
        if (!parsed.ok) {
          fields.push('body');
          details.push(parsed.problem);
        } else {
          const schema = this.bodySchemas.get(value.mediaType ?? '');
          const errors = schema ? this.schemas.check(schema, parsed.value) : [];
          for (const error of errors) {
            const field = fieldOf(error, 'body');
            if (!fields.includes(field)) fields.push(field);
            details.push(`${field} ${error.message ?? 'is invalid'}`);
          }
          value.body = parsed.value;
        }
      }
    }
    if (fields.length) return { ok: false, kind: 'model', fields, details, broke };
    return { ok: true, value };
  }
}

function parseBody(text: string, mediaType: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  if (mediaType === 'application/x-www-form-urlencoded') {
    return { ok: true, value: Object.fromEntries(new URLSearchParams(text)) };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, problem: `the body is not valid JSON (${(error as Error).message})` };
  }
}
