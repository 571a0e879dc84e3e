import type { ErrorObject } from 'ajv';
import { difference, type Difference, type DifferenceInput } from '../contracts/lib/difference.js';
import { loadContracts, type Contract, type ContractSet } from '../contracts/lib/load.js';
import { deref } from '../contracts/lib/operations.js';
import { SchemaValidator } from '../contracts/lib/schema.js';
import type { JsonObject, OpenApiDocument } from '../contracts/lib/types.js';
import type { Exchange } from '../mock/journal.js';
import { Router, type Route } from '../mock/router.js';
import { RequestValidator } from '../mock/validation.js';
import { xmlDeclaration } from '../mock/xml.js';

/** Checks journaled exchanges (the mock's, or real traffic through the proxy) against the contracts. */
export interface ContractChecker {
  /** The operation a request is for, if any operation of the contracts matches it. */
  operationOf(method: string, url: string): string | undefined;
  /** The request's problems (parameters, content type, body), one line each, naming the field; empty when valid. */
  checkRequest(exchange: Exchange): string[];
  /**
   * Where the answer differs from the contract (drift), classed and worded as
   * the contract diff words them (contracts/lib/difference.ts): a status the
   * operation does not document, a media type it does not document for that
   * status, a body its schema refuses, and any property the schema does not
   * list, even where the contract leaves `additionalProperties` open. Empty
   * when the answer is as documented.
   */
  checkResponse(exchange: Exchange): Difference[];
}

/** How the journal marks a body it cut (mock/journal.ts): such a body cannot be parsed, so it is not checked. */
const CUT = /…\[\d+ more characters\]$/;

/**
 * A copy of a schema where every object schema that lists its properties and
 * says nothing about others refuses others: what DEMO answers beyond the
 * contract is what drift detection is for. `allOf` members stay open, since
 * each would refuse the properties the others list.
 */
function strict(node: unknown, open = false): unknown {
  if (Array.isArray(node)) return node.map((item) => strict(item));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'allOf' && Array.isArray(value)) out.allOf = value.map((member) => strict(member, true));
    else if (key === 'properties' && value && typeof value === 'object') out.properties = Object.fromEntries(Object.entries(value).map(([name, schema]) => [name, strict(schema)]));
    else if (key === 'example' || key === 'examples' || key === 'enum' || key === 'default') out[key] = value;
    else out[key] = strict(value);
  }
  if (!open && out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

function strictDocument(doc: OpenApiDocument): OpenApiDocument {
  const schemas = (doc.components?.schemas ?? {}) as Record<string, JsonObject>;
  return { ...doc, components: { ...doc.components, schemas: strict(schemas) as Record<string, JsonObject> } };
}

/** A field as the manual's `_002` names it; array indices of an answer as `[]`, so one drift over a list is one reason. */
function fieldOf(error: ErrorObject, indices: boolean): string {
  const parts = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  const extra = error.params as { missingProperty?: string; additionalProperty?: string };
  const leaf = extra.missingProperty ?? extra.additionalProperty;
  if (leaf !== undefined) parts.push(leaf);
  const path = parts.map((part) => (/^\d+$/.test(part) ? (indices ? `[${part}]` : '[]') : `.${part}`)).join('');
  return path.replace(/^\./, '') || '(body)';
}

const jsonType = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value);

/** The value at an ajv instance path (`/0/accountNumber`). */
function valueAt(root: unknown, instancePath: string): unknown {
  let node = root;
  for (const part of instancePath.split('/').slice(1)) node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return node;
}

/** One schema error of an answer, as the contract diff would name the same difference. */
function describe(error: ErrorObject, value: unknown, where: string): DifferenceInput {
  const base = { direction: 'response' as const, where, field: fieldOf(error, false) };
  switch (error.keyword) {
    case 'additionalProperties':
      return { ...base, kind: 'field-added' };
    case 'required':
      return { ...base, kind: 'field-missing', required: true };
    case 'type':
      return { ...base, kind: 'type', ours: [(error.params as { type: string | string[] }).type].flat().join(' or '), theirs: jsonType(valueAt(value, error.instancePath)) };
    case 'enum':
      return { ...base, kind: 'enum-value-added', theirs: String(valueAt(value, error.instancePath)) };
    default:
      return { ...base, kind: 'constraint', detail: error.message ?? 'is invalid' };
  }
}

interface Gateway {
  doc: OpenApiDocument;
  schemas: SchemaValidator;
  strictSchemas: SchemaValidator;
  /** The cross-cutting answers of common.yaml by status: what the gateway answers before (or instead of) an operation. */
  responses: Map<string, JsonObject>;
}

/**
 * What the gateway answers in front of the G-REX APIs (common.yaml): the
 * firewall's HTML 403, the fair-use 429s, 401, 500, and the envelope of the
 * route and size refusals (404 ROUTE_001, 405 ROUTE_005, 413 REQUEST_013,
 * 431 REQUEST_031), which no operation lists because no operation was reached.
 */
function gatewayOf(common: OpenApiDocument): Gateway {
  const named = (common.components?.responses ?? {}) as Record<string, JsonObject>;
  const envelope: JsonObject = { description: 'gateway refusal', content: { 'application/json': { schema: { $ref: '#/components/schemas/Envelope' } } } };
  const responses = new Map<string, JsonObject>([
    ['401', named.Unauthorized],
    ['403', named.Forbidden],
    ['429', named.TooManyRequests],
    ['500', named.InternalError],
    ['404', envelope],
    ['405', envelope],
    ['413', envelope],
    ['431', envelope],
  ]);
  for (const [status, response] of responses) if (!response) responses.delete(status);
  return { doc: common, schemas: new SchemaValidator(common), strictSchemas: new SchemaValidator(strictDocument(common)), responses };
}

interface ContractTools {
  schemas: SchemaValidator;
  strictSchemas: SchemaValidator;
}

const header = (headers: Record<string, unknown>, name: string): string | undefined => {
  const value = headers[name] ?? Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return value === undefined ? undefined : Array.isArray(value) ? String(value[0]) : String(value);
};

/**
 * The path and query of a request as the mock routes them: split at the
 * first `?`, after the scheme and host of an absolute-form request line (a
 * client that takes the proxy for a forward proxy). Not through `new URL`,
 * which throws on a request line that is not a valid URL (`GET http://[x/...`).
 */
function splitUrl(url: string): { path: string; query: URLSearchParams } {
  const authority = /^https?:\/\/[^/?]*/i.exec(url);
  const target = authority ? url.slice(authority[0].length) : url;
  const mark = target.indexOf('?');
  return { path: (mark < 0 ? target : target.slice(0, mark)) || '/', query: new URLSearchParams(mark < 0 ? '' : target.slice(mark + 1)) };
}

/** A checker over the contracts (the project's, unless given): routing, request validation and schemas are the mock's own. */
export function createContractChecker(contracts: ContractSet = loadContracts()): ContractChecker {
  const router = new Router(contracts.contracts);
  const tools = new Map<Contract, ContractTools>(
    contracts.contracts.map((contract) => [contract, { schemas: new SchemaValidator(contract.doc), strictSchemas: new SchemaValidator(strictDocument(contract.doc)) }]),
  );
  const gateway = gatewayOf(contracts.common);
  const xmlTypes = new Set(xmlDeclaration(contracts.common)?.mediaTypes ?? []);
  const requestValidators = new Map<Route, RequestValidator>();
  // One strict copy per schema object, so each SchemaValidator compiles it once.
  const strictCopies = new WeakMap<object, object>();
  const strictCopy = (schema: object): object => {
    let copy = strictCopies.get(schema);
    if (!copy) strictCopies.set(schema, (copy = strict(schema) as object));
    return copy;
  };

  const validatorOf = (route: Route): RequestValidator => {
    let validator = requestValidators.get(route);
    if (!validator) requestValidators.set(route, (validator = new RequestValidator(route, (tools.get(route.contract) as ContractTools).schemas)));
    return validator;
  };

  /** The body against one documented response: media type, then (for JSON) the strict schema. */
  const checkBody = (exchange: Exchange, response: JsonObject, doc: OpenApiDocument, strictSchemas: SchemaValidator, where: string): Difference[] => {
    const { headers, body } = exchange.response;
    const status = String(exchange.response.status);
    const content = deref<JsonObject>(doc, response).content as Record<string, JsonObject> | undefined;
    const hasBody = body !== undefined && body !== '';
    const mediaType = (header(headers, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
    const base = { direction: 'response' as const, where, status };
    if (!content || Object.keys(content).length === 0) return hasBody && exchange.request.method !== 'HEAD' ? [difference({ ...base, kind: 'media-type', theirs: mediaType, detail: 'no body' })] : [];
    if (!hasBody || exchange.request.method === 'HEAD') return [];
    const documented = Object.keys(content);
    const media = Object.entries(content).find(([type]) => type.toLowerCase() === mediaType)?.[1];
    // XML is the JSON answer negotiated (common.yaml x-grex-xml): the contract documents it once, not per response.
    if (!media && xmlTypes.has(mediaType) && content['application/json']) return [];
    if (!media) return [difference({ ...base, kind: 'media-type', theirs: mediaType, detail: documented.join(', ') })];
    if (!media.schema || !/^application\/(.+\+)?json$/.test(mediaType) || CUT.test(body)) return [];
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (error) {
      return [difference({ ...base, kind: 'body-not-json', detail: (error as Error).message })];
    }
    const found = new Map<string, Difference>();
    for (const error of strictSchemas.check(strictCopy(media.schema as object), value)) {
      const item = difference({ ...describe(error, value, where), status });
      found.set(item.text, item);
    }
    return [...found.values()];
  };

  return {
    operationOf(method, url) {
      const match = router.match(method.toUpperCase(), splitUrl(url).path);
      return match.kind === 'found' ? match.route.operationId : undefined;
    },

    checkRequest(exchange) {
      const method = exchange.request.method.toUpperCase();
      const { path, query } = splitUrl(exchange.request.url);
      const match = router.match(method, path);
      if (match.kind === 'none') return [`${method} ${path}: no operation of the contracts has this path`];
      if (match.kind === 'method') return [`${method} ${path}: the contracts allow only ${match.allowed.join(', ')} here`];
      const body = exchange.request.body;
      // A body the journal cut cannot be parsed: its parameters and media type are still checked, the body is not (nor reported missing).
      const cut = body !== undefined && CUT.test(body);
      const bytes = body === undefined || body === '' || cut ? null : Buffer.from(body, 'utf8');
      const check = validatorOf(match.route).check(match.params, query, exchange.request.headers, bytes);
      if (check.ok) return [];
      return cut ? check.details.filter((detail) => detail !== 'the request body is required') : check.details;
    },

    checkResponse(exchange) {
      const method = exchange.request.method.toUpperCase();
      const { path } = splitUrl(exchange.request.url);
      const status = String(exchange.response.status);
      const where = `response ${status}`;
      const match = router.match(method, path);
      if (match.kind === 'found') {
        const { route } = match;
        const own = route.operation.responses?.[status] ?? route.operation.responses?.default;
        const { strictSchemas } = tools.get(route.contract) as ContractTools;
        if (own) return checkBody(exchange, own, route.contract.doc, strictSchemas, where);
        // B2C is Microsoft's service: G-REX's gateway does not stand in front of it.
        const fallback = route.contract.grex.api === 'b2c' ? undefined : gateway.responses.get(status);
        if (fallback) return checkBody(exchange, fallback, gateway.doc, gateway.strictSchemas, `${where} (gateway)`);
        return [difference({ kind: 'status-added', direction: 'response', status, detail: Object.keys(route.operation.responses ?? {}).join(', ') })];
      }
      const fallback = gateway.responses.get(status);
      if (fallback && exchange.response.status >= 400) return checkBody(exchange, fallback, gateway.doc, gateway.strictSchemas, `${where} (gateway)`);
      return [difference({ kind: 'operation-added' })];
    },
  };
}
