import { difference, type Difference, type DifferenceInput, type Direction } from './difference.js';
import { deref, operations, type OperationRef } from './operations.js';
import type { JsonObject, OpenApiDocument } from './types.js';

/**
 * A body field G-REX names otherwise: `at` is the path to the object that
 * holds it, in the contract's names (`['bundles', '[]']`; `[]` for the items
 * of a list), so the mock can rename it both ways.
 */
export interface Rename {
  direction: Direction;
  /** The response status it was found under (responses only). */
  status?: string;
  at: string[];
  ours: string;
  theirs: string;
}

export interface ParameterRename {
  in: string;
  ours: string;
  theirs: string;
}

/** One operation both sides have (same method, same path but for parameter names). */
export interface OperationMatch {
  ours: OperationRef;
  theirs: OperationRef;
  renames: Rename[];
  /** Path parameters are matched by position, query and header parameters renamed as fields are. */
  parameters: ParameterRename[];
}

export interface OperationDifference extends Difference {
  /** The contract's operationId, or G-REX's (or `METHOD path`) for an operation the contract does not have. */
  operation: string;
  method: string;
  path: string;
}

export interface Comparison {
  matches: OperationMatch[];
  /** G-REX's operations the contract does not have. */
  added: OperationRef[];
  /** The contract's operations G-REX does not have. */
  missing: OperationRef[];
  differences: OperationDifference[];
}

/**
 * Statuses the gateway and the identity layer answer in front of every
 * operation (common.yaml: 401, the firewall's 403, fair use's 429, 500).
 * Swagger generators document what a controller answers, not these, so they
 * are not compared: their absence says nothing.
 */
const GATEWAY_STATUSES = new Set(['401', '403', '429', '500', 'default']);

/** Headers every client sends anyway; a document that lists them as parameters says nothing new. */
const PROTOCOL_HEADERS = new Set(['accept', 'authorization', 'content-type', 'content-length', 'host', 'user-agent']);

/** Deeper than any G-REX body (a list of bundles of ranges is four levels): the bound for schemas that nest without references. */
const MAX_DEPTH = 12;

/** `/AH/managementapi/Accounts/{accountNumber}` -> `get /ah/managementapi/accounts/{}`: ASP.NET routes ignore case, and names of path parameters are not part of the URL. */
export const operationKey = (method: string, path: string): string => `${method.toLowerCase()} ${path.toLowerCase().replace(/\{[^}]+\}/g, '{}')}`;

/** A schema with its `$ref`s followed and its `allOf` members merged: what a value must look like, in one object. */
function resolve(doc: OpenApiDocument, node: unknown, depth = 0): JsonObject {
  const schema = node ? deref<JsonObject>(doc, node) : {};
  const members = Array.isArray(schema.allOf) ? (schema.allOf as JsonObject[]) : [];
  if (members.length === 0 || depth > MAX_DEPTH) return schema;
  const merged: JsonObject = { ...schema, allOf: null };
  const properties: JsonObject = {};
  const required = new Set<string>(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  for (const member of members.map((item) => resolve(doc, item, depth + 1))) {
    Object.assign(properties, member.properties ?? {});
    for (const name of (member.required as string[] | undefined) ?? []) required.add(name);
    merged.type ??= member.type ?? null;
  }
  Object.assign(properties, schema.properties ?? {});
  return { ...merged, properties, required: [...required] };
}

function typeOf(schema: JsonObject): string | undefined {
  if (typeof schema.type === 'string') return schema.type;
  if (schema.properties) return 'object';
  if (schema.items) return 'array';
  return undefined;
}

/** A field as the mock's `_002` and the drift report name it: `bundles[].startCertificateId`, `[].name` for a list's items. */
export function fieldName(at: readonly string[], name?: string): string {
  const parts = name === undefined ? at : [...at, name];
  return parts.map((part) => (part === '[]' ? '[]' : `.${part}`)).join('').replace(/^\./, '') || '(body)';
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const kept = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = kept;
    }
  }
  return row[b.length];
}

/** How alike two names are, 0 to 1: equal but for case and underscores, one inside the other, or by edit distance. */
function likeness(a: string, b: string): number {
  const x = a.toLowerCase().replace(/[_-]/g, '');
  const y = b.toLowerCase().replace(/[_-]/g, '');
  if (x === y) return 1;
  if (x.includes(y) || y.includes(x)) return 0.9;
  return 1 - distance(x, y) / Math.max(x.length, y.length);
}

interface Named {
  name: string;
  type: string | undefined;
}

/**
 * Which of the names only the contract has and the names only G-REX has are
 * one field renamed: same type, and alike (or the only two left of that type).
 */
function pairRenames(missing: Named[], added: Named[]): [Named, Named][] {
  const candidates: { score: number; ours: Named; theirs: Named }[] = [];
  for (const ours of missing) {
    for (const theirs of added) {
      if (ours.type !== theirs.type) continue;
      const score = likeness(ours.name, theirs.name);
      if (score >= 0.5) candidates.push({ score, ours, theirs });
    }
  }
  candidates.sort((a, b) => b.score - a.score);
  const pairs: [Named, Named][] = [];
  const taken = new Set<Named>();
  for (const { ours, theirs } of candidates) {
    if (taken.has(ours) || taken.has(theirs)) continue;
    taken.add(ours).add(theirs);
    pairs.push([ours, theirs]);
  }
  const restOurs = missing.filter((item) => !taken.has(item));
  const restTheirs = added.filter((item) => !taken.has(item));
  if (restOurs.length === 1 && restTheirs.length === 1 && restOurs[0].type === restTheirs[0].type) pairs.push([restOurs[0], restTheirs[0]]);
  return pairs;
}

interface Walk {
  ours: OpenApiDocument;
  theirs: OpenApiDocument;
  direction: Direction;
  where: string;
  status?: string;
  found: DifferenceInput[];
  renames: Rename[];
}

const enumOf = (schema: JsonObject): string[] | undefined => (Array.isArray(schema.enum) ? schema.enum.map((value) => String(value)) : undefined);

/** Two schemas of the same place, field by field: types, enums, required, fields missing, added and renamed. */
function compareSchemas(walk: Walk, oursNode: unknown, theirsNode: unknown, at: string[], field = fieldName(at), within: readonly string[] = []): void {
  if (at.length > MAX_DEPTH) return;
  // A recursive schema (a tree) stops where the same pair of references comes round again.
  const refs = `${(oursNode as JsonObject | undefined)?.$ref ?? ''} ${(theirsNode as JsonObject | undefined)?.$ref ?? ''}`;
  if (refs !== ' ' && within.includes(refs)) return;
  const chain = refs === ' ' ? within : [...within, refs];
  const ours = resolve(walk.ours, oursNode);
  const theirs = resolve(walk.theirs, theirsNode);
  const base = { direction: walk.direction, where: walk.where, status: walk.status };
  const oursType = typeOf(ours);
  const theirsType = typeOf(theirs);
  if (oursType && theirsType && oursType !== theirsType) {
    walk.found.push({ ...base, kind: 'type', field, ours: oursType, theirs: theirsType });
    return;
  }
  const oursEnum = enumOf(ours);
  const theirsEnum = enumOf(theirs);
  if (oursEnum && theirsEnum) {
    for (const value of oursEnum.filter((item) => !theirsEnum.includes(item))) walk.found.push({ ...base, kind: 'enum-value-missing', field, ours: value });
    for (const value of theirsEnum.filter((item) => !oursEnum.includes(item))) walk.found.push({ ...base, kind: 'enum-value-added', field, theirs: value });
  }
  if ((oursType ?? theirsType) === 'array') {
    compareSchemas(walk, ours.items, theirs.items, [...at, '[]'], undefined, chain);
    return;
  }
  const oursProperties = (ours.properties ?? {}) as Record<string, JsonObject>;
  const theirsProperties = (theirs.properties ?? {}) as Record<string, JsonObject>;
  if (!ours.properties || !theirs.properties) return;
  const oursRequired = new Set((ours.required as string[] | undefined) ?? []);
  const theirsRequired = new Set((theirs.required as string[] | undefined) ?? []);
  const named = (doc: OpenApiDocument, properties: Record<string, JsonObject>, names: string[]): Named[] =>
    names.map((name) => ({ name, type: typeOf(resolve(doc, properties[name])) }));
  const missing = named(walk.ours, oursProperties, Object.keys(oursProperties).filter((name) => !(name in theirsProperties)));
  const added = named(walk.theirs, theirsProperties, Object.keys(theirsProperties).filter((name) => !(name in oursProperties)));
  const pairs = pairRenames(missing, added);
  const common: [string, string][] = Object.keys(oursProperties)
    .filter((name) => name in theirsProperties)
    .map((name) => [name, name]);
  for (const [oursName, theirsName] of [...common, ...pairs.map(([ours, theirs]): [string, string] => [ours.name, theirs.name])]) {
    if (oursName !== theirsName) {
      walk.found.push({ ...base, kind: 'field-renamed', field: fieldName(at, oursName), ours: fieldName(at, oursName), theirs: fieldName(at, theirsName) });
      walk.renames.push({ direction: walk.direction, ...(walk.status ? { status: walk.status } : {}), at, ours: oursName, theirs: theirsName });
    } else if (oursRequired.has(oursName) !== theirsRequired.has(theirsName)) {
      const required = (yes: boolean): string => (yes ? 'required' : 'optional');
      walk.found.push({ ...base, kind: 'field-required', field: fieldName(at, oursName), ours: required(oursRequired.has(oursName)), theirs: required(theirsRequired.has(theirsName)) });
    }
    compareSchemas(walk, oursProperties[oursName], theirsProperties[theirsName], [...at, oursName], undefined, chain);
  }
  const paired = new Set(pairs.flat());
  for (const item of missing.filter((entry) => !paired.has(entry))) walk.found.push({ ...base, kind: 'field-missing', field: fieldName(at, item.name), required: oursRequired.has(item.name) });
  for (const item of added.filter((entry) => !paired.has(entry))) walk.found.push({ ...base, kind: 'field-added', field: fieldName(at, item.name), required: theirsRequired.has(item.name) });
}

/** The JSON media of a body or response: `application/json` first, else any `...json` type. */
function jsonMedia(doc: OpenApiDocument, node: unknown): { content?: Record<string, JsonObject>; media?: JsonObject } {
  if (!node) return {};
  const content = deref<JsonObject>(doc, node).content as Record<string, JsonObject> | undefined;
  if (!content) return {};
  const type = Object.keys(content).find((name) => name.toLowerCase() === 'application/json') ?? Object.keys(content).find((name) => /[/+]json$/i.test(name));
  return { content, media: type ? content[type] : undefined };
}

/** The manual's `responseCode` values a response documents: its envelope examples, or an enum on `responseCode`. */
function responseCodes(doc: OpenApiDocument, media: JsonObject | undefined): Set<string> {
  const codes = new Set<string>();
  if (!media) return codes;
  const values = [media.example, ...Object.values((media.examples as Record<string, JsonObject> | undefined) ?? {}).map((example) => deref<JsonObject>(doc, example).value)];
  for (const value of values) {
    const code = (value as JsonObject | null | undefined)?.responseCode;
    if (typeof code === 'string') codes.add(code);
  }
  const schema = media.schema ? resolve(doc, media.schema) : undefined;
  const property = (schema?.properties as Record<string, JsonObject> | undefined)?.responseCode;
  for (const value of enumOf(property ? resolve(doc, property) : {}) ?? []) codes.add(value);
  return codes;
}

const needsToken = (doc: OpenApiDocument, operation: OperationRef): boolean =>
  ((operation.operation.security ?? doc.security ?? []) as Record<string, unknown>[]).some((requirement) => Object.keys(requirement).length > 0);

const pathParameters = (path: string): string[] => [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);

/** Parameters, request body, responses and codes of one operation both sides have. */
function compareOperation(ours: OpenApiDocument, theirs: OpenApiDocument, match: OperationMatch): DifferenceInput[] {
  const found: DifferenceInput[] = [];
  const walk = (direction: Direction, where: string, status?: string): Walk => ({ ours, theirs, direction, where, status, found, renames: match.renames });

  // A document that describes no security at all says nothing about tokens.
  if (Object.keys(theirs.components?.securitySchemes ?? {}).length > 0 && needsToken(ours, match.ours) !== needsToken(theirs, match.theirs)) {
    found.push({ kind: 'security', theirs: needsToken(theirs, match.theirs) ? 'token' : 'anonymous', ours: needsToken(ours, match.ours) ? 'token' : 'anonymous' });
  }

  const oursPath = pathParameters(match.ours.path);
  const theirsPath = pathParameters(match.theirs.path);
  oursPath.forEach((name, index) => {
    if (theirsPath[index] !== undefined && theirsPath[index] !== name) match.parameters.push({ in: 'path', ours: name, theirs: theirsPath[index] });
  });
  const byName = (doc: OpenApiDocument, ref: OperationRef, place: string) =>
    new Map(ref.parameters.filter((parameter) => parameter.in === place && !(place === 'header' && PROTOCOL_HEADERS.has(String(parameter.name).toLowerCase()))).map((parameter) => [String(parameter.name), deref<JsonObject>(doc, parameter)]));
  for (const place of ['path', 'query', 'header']) {
    const oursParameters = byName(ours, match.ours, place);
    const theirsParameters = byName(theirs, match.theirs, place);
    const pairs: [string, string][] =
      place === 'path'
        ? oursPath.flatMap((name, index): [string, string][] => (theirsPath[index] !== undefined ? [[name, theirsPath[index]]] : []))
        : [...oursParameters.keys()].flatMap((name): [string, string][] => {
            const same = [...theirsParameters.keys()].find((other) => other.toLowerCase() === name.toLowerCase());
            return same ? [[name, same]] : [];
          });
    if (place !== 'path') {
      const typed = (doc: OpenApiDocument, parameters: Map<string, JsonObject>, names: string[]): Named[] => names.map((name) => ({ name, type: typeOf(resolve(doc, parameters.get(name)?.schema)) }));
      const missing = typed(ours, oursParameters, [...oursParameters.keys()].filter((name) => !pairs.some(([mine]) => mine === name)));
      const added = typed(theirs, theirsParameters, [...theirsParameters.keys()].filter((name) => !pairs.some(([, other]) => other === name)));
      const renamed = pairRenames(missing, added);
      for (const [mine, other] of renamed) {
        found.push({ kind: 'field-renamed', direction: 'request', where: `parameter (${place})`, field: mine.name, ours: mine.name, theirs: other.name });
        match.parameters.push({ in: place, ours: mine.name, theirs: other.name });
        pairs.push([mine.name, other.name]);
      }
      const paired = new Set(renamed.flat());
      for (const item of missing.filter((entry) => !paired.has(entry))) found.push({ kind: 'parameter-missing', direction: 'request', where: `parameter (${place})`, field: item.name });
      for (const item of added.filter((entry) => !paired.has(entry))) {
        found.push({ kind: 'parameter-added', direction: 'request', where: `parameter (${place})`, field: item.name, required: theirsParameters.get(item.name)?.required === true });
      }
    }
    for (const [mine, other] of pairs) {
      const a = oursParameters.get(mine);
      const b = theirsParameters.get(other);
      if (!a || !b) continue;
      if (place !== 'path' && (a.required === true) !== (b.required === true)) {
        found.push({ kind: 'parameter-required', direction: 'request', where: `parameter (${place})`, field: mine, ours: a.required ? 'required' : 'optional', theirs: b.required ? 'required' : 'optional' });
      }
      compareSchemas(walk('request', `parameter (${place})`), a.schema, b.schema, [], mine);
    }
  }

  const oursBody = jsonMedia(ours, match.ours.operation.requestBody);
  const theirsBody = jsonMedia(theirs, match.theirs.operation.requestBody);
  if (oursBody.media && theirsBody.media) {
    compareSchemas(walk('request', 'request body'), oursBody.media.schema, theirsBody.media.schema, []);
  } else if (oursBody.media && theirsBody.content) {
    found.push({ kind: 'media-type', direction: 'request', where: 'request body', theirs: Object.keys(theirsBody.content).join(', '), ours: 'application/json' });
  } else if (oursBody.media) {
    found.push({ kind: 'field-missing', direction: 'request', where: 'request body', field: '(body)', required: true });
  } else if (theirsBody.media) {
    const required = deref<JsonObject>(theirs, match.theirs.operation.requestBody).required === true;
    found.push({ kind: 'field-added', direction: 'request', where: 'request body', field: '(body)', required });
  }

  const oursResponses = match.ours.operation.responses ?? {};
  const theirsResponses = match.theirs.operation.responses ?? {};
  for (const status of Object.keys(oursResponses)) {
    if (GATEWAY_STATUSES.has(status)) continue;
    if (!(status in theirsResponses)) {
      found.push({ kind: 'status-missing', direction: 'response', status });
      continue;
    }
    const where = `response ${status}`;
    const a = jsonMedia(ours, oursResponses[status]).media;
    const b = jsonMedia(theirs, theirsResponses[status]).media;
    if (a?.schema && b?.schema) compareSchemas(walk('response', where, status), a.schema, b.schema, []);
    const oursCodes = responseCodes(ours, a);
    const theirsCodes = responseCodes(theirs, b);
    // Compared only where both list codes: a document without examples says nothing about them.
    if (oursCodes.size && theirsCodes.size) {
      for (const code of [...oursCodes].filter((item) => !theirsCodes.has(item))) found.push({ kind: 'response-code-missing', direction: 'response', where, status, ours: code });
      for (const code of [...theirsCodes].filter((item) => !oursCodes.has(item))) found.push({ kind: 'response-code-added', direction: 'response', where, status, theirs: code, detail: [...oursCodes].join(', ') });
    }
  }
  for (const status of Object.keys(theirsResponses)) {
    if (GATEWAY_STATUSES.has(status) || status in oursResponses) continue;
    found.push({ kind: 'status-added', direction: 'response', status, detail: Object.keys(oursResponses).join(', ') });
  }
  return found;
}

/**
 * The contract against G-REX's document of the same API, operation by
 * operation (matched by method and path): every difference classed and
 * worded (difference.ts), and what the mock needs to serve G-REX's document
 * with its own handlers (matches, renames).
 */
export function compareDocuments(ours: OpenApiDocument, theirs: OpenApiDocument): Comparison {
  const oursOperations = operations(ours);
  const theirsOperations = operations(theirs);
  const theirsByKey = new Map(theirsOperations.map((ref) => [operationKey(ref.method, ref.path), ref]));
  const matched = new Set<OperationRef>();
  const result: Comparison = { matches: [], added: [], missing: [], differences: [] };
  const record = (ref: OperationRef, label: string, inputs: DifferenceInput[]): void => {
    for (const input of inputs) result.differences.push({ ...difference(input), operation: label, method: ref.method.toUpperCase(), path: ref.path });
  };
  for (const ref of oursOperations) {
    const label = String(ref.operation.operationId ?? `${ref.method.toUpperCase()} ${ref.path}`);
    const twin = theirsByKey.get(operationKey(ref.method, ref.path));
    if (!twin) {
      result.missing.push(ref);
      record(ref, label, [{ kind: 'operation-missing' }]);
      continue;
    }
    matched.add(twin);
    const match: OperationMatch = { ours: ref, theirs: twin, renames: [], parameters: [] };
    result.matches.push(match);
    record(ref, label, compareOperation(ours, theirs, match));
  }
  for (const ref of theirsOperations) {
    if (matched.has(ref)) continue;
    result.added.push(ref);
    record(ref, String(ref.operation.operationId ?? `${ref.method.toUpperCase()} ${ref.path}`), [{ kind: 'operation-added' }]);
  }
  return result;
}
