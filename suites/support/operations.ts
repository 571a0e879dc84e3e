import { envelopeUses } from '../../contracts/lib/codes.js';
import { deref, operations } from '../../contracts/lib/operations.js';
import { accessOf, loadServedContracts } from '../../contracts/lib/served.js';
import { SchemaValidator } from '../../contracts/lib/schema.js';
import type { Grant, JsonObject, OpenApiDocument } from '../../contracts/lib/types.js';
import type { Exchange } from './http.js';

/** One GET operation of a G-REX contract, as the suites need it. */
export interface GetOperation {
  contract: string;
  operationId: string;
  path: string;
  grants: Grant[];
  /** Public: sent without a token. */
  anonymous: boolean;
  /** Takes `$top`/`$skip`; the largest `$top` the contract allows. */
  paging?: { maxTop?: number; required: boolean };
  /** The 200 answer is a list (so `$skip` past the end gives an empty one). */
  listAnswer: boolean;
  /** The statuses the operation documents. */
  statuses: string[];
  pathParameters: string[];
  /** The contract's example (or first enum value) of each path parameter that has one. */
  pathExamples: Record<string, string>;
  /** The collection whose items give the path parameter (`.../Accounts` for `.../Accounts/{accountNumber}`). */
  parent?: string;
}

/** A path parameter's example in the contract, or the first value of its enum. */
function pathExamples(doc: OpenApiDocument, parameters: JsonObject[]): Record<string, string> {
  const examples: Record<string, string> = {};
  for (const parameter of parameters) {
    if (parameter.in !== 'path') continue;
    const schema = parameter.schema ? deref<JsonObject>(doc, parameter.schema) : undefined;
    const example = parameter.example ?? schema?.example ?? (Array.isArray(schema?.enum) ? schema.enum[0] : undefined);
    if (example !== undefined && example !== null) examples[String(parameter.name)] = String(example);
  }
  return examples;
}

/**
 * The contracts the target serves: the reconstructed ones, or G-REX's own
 * documents from GREX_CONTRACTS (a folder of `grex-harness contracts pull`,
 * which the mock project then serves with `--contracts`).
 */
const set = await loadServedContracts(process.env.GREX_CONTRACTS || undefined);
const grexContracts = set.contracts.filter((contract) => contract.grex.postmanVariable);
/** Answers are checked against every contract, B2C's too (its TokenResponse). */
const validators = new Map(set.contracts.map((contract) => [contract.name, new SchemaValidator(contract.doc)]));
const docs = new Map(set.contracts.map((contract) => [contract.name, contract.doc]));
/** `operationId` -> status -> the response codes documented for it. */
const documented = new Map<string, Map<string, Set<string>>>();
for (const contract of grexContracts) {
  for (const use of envelopeUses(contract)) {
    const byStatus = documented.get(use.operationId) ?? new Map<string, Set<string>>();
    documented.set(use.operationId, byStatus.set(use.status, (byStatus.get(use.status) ?? new Set()).add(use.code)));
  }
}

/** Every GET operation of the six G-REX contracts, in contract order: the contract suite's test list. */
export const GET_OPERATIONS: GetOperation[] = grexContracts.flatMap((contract) => {
  const gets = operations(contract.doc).filter((ref) => ref.method === 'get');
  const paths = new Set(gets.map((ref) => ref.path));
  return gets.map((ref): GetOperation => {
    const top = ref.parameters.find((parameter) => parameter.in === 'query' && parameter.name === '$top');
    const topSchema = top ? deref<JsonObject>(contract.doc, top.schema) : undefined;
    const ok = ref.operation.responses?.['200'] ? deref<JsonObject>(contract.doc, ref.operation.responses['200']) : undefined;
    const okSchema = (ok?.content as Record<string, JsonObject> | undefined)?.['application/json']?.schema;
    const parent = ref.path.replace(/\/\{[^}]+\}$/, '');
    return {
      contract: contract.name,
      operationId: String(ref.operation.operationId),
      path: ref.path,
      ...accessOf(set, contract, ref.operation),
      paging: top ? { maxTop: typeof topSchema?.maximum === 'number' ? topSchema.maximum : undefined, required: top.required === true } : undefined,
      listAnswer: !!okSchema && deref<JsonObject>(contract.doc, okSchema).type === 'array',
      statuses: Object.keys(ref.operation.responses ?? {}),
      pathParameters: [...ref.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]),
      pathExamples: pathExamples(contract.doc, ref.parameters),
      parent: parent !== ref.path && paths.has(parent) ? parent : undefined,
    };
  });
});

/** The GET operation at a contract's path (a parent collection). */
export const operationAt = (contract: string, path: string): GetOperation | undefined =>
  GET_OPERATIONS.find((operation) => operation.contract === contract && operation.path === path);

/** The response codes an operation documents for a status. */
export const documentedCodes = (operationId: string, status: number | string): Set<string> => documented.get(operationId)?.get(String(status)) ?? new Set();

/**
 * Whether an answer is one the contract documents: its status is listed, its
 * JSON body validates against that status's schema, and an envelope's
 * `responseCode` is one of the codes listed for that status and its
 * `statusCode` the HTTP status it came with. Empty when so.
 */
export function contractProblems(contract: string, operationId: string, exchange: Exchange): string[] {
  const doc = docs.get(contract);
  const validator = validators.get(contract);
  if (!doc || !validator) return [`no contract named ${contract}`];
  const ref = operations(doc).find((candidate) => candidate.operation.operationId === operationId);
  if (!ref) return [`${contract} has no operation ${operationId}`];
  const { status, json, headers } = exchange.response;
  const response = ref.operation.responses?.[String(status)] ?? ref.operation.responses?.default;
  if (!response) return [`${operationId} answered ${status}, which its contract does not document (${Object.keys(ref.operation.responses ?? {}).join(', ')})`];
  const content = deref<JsonObject>(doc, response).content as Record<string, JsonObject> | undefined;
  if (!content) return [];
  const mediaType = (headers['content-type'] ?? '').split(';')[0].trim();
  const media = content[mediaType];
  if (!media) return [`${operationId} ${status} answered ${mediaType || 'no content type'}; the contract documents ${Object.keys(content).join(', ')}`];
  const problems: string[] = [];
  if (media.schema) problems.push(...validator.validate(deref(doc, media.schema), json).map((line) => `${operationId} ${status} body ${line}`));
  if (json && typeof json === 'object' && typeof json.responseCode === 'string') {
    const codes = documentedCodes(operationId, status);
    if (codes.size > 0 && !codes.has(json.responseCode)) problems.push(`${operationId} ${status} answered ${json.responseCode}; documented: ${[...codes].join(', ')}`);
  }
  // The manual's envelope repeats the HTTP status: a client may read either, so they must agree.
  if (json && typeof json === 'object' && 'statusCode' in json && json.statusCode !== status) problems.push(`${operationId} answered HTTP ${status} with an envelope saying statusCode ${JSON.stringify(json.statusCode)}`);
  return problems;
}

/** One write operation (POST, PUT, PATCH, DELETE) of a G-REX contract. */
export interface WriteOperation {
  contract: string;
  operationId: string;
  method: string;
  path: string;
  grants: Grant[];
  anonymous: boolean;
  pathParameters: string[];
  pathExamples: Record<string, string>;
  parent?: string;
  /** The JSON body it takes, if any. */
  takesJson: boolean;
}

export const WRITE_OPERATIONS: WriteOperation[] = grexContracts.flatMap((contract) =>
  operations(contract.doc)
    .filter((ref) => ref.method !== 'get')
    .map((ref): WriteOperation => {
      const body = ref.operation.requestBody ? deref<JsonObject>(contract.doc, ref.operation.requestBody) : undefined;
      const parent = ref.path.replace(/(\/\{[^}]+\})(\/[^/{}]+)?$/, '');
      return {
        contract: contract.name,
        operationId: String(ref.operation.operationId),
        method: ref.method.toUpperCase(),
        path: ref.path,
        ...accessOf(set, contract, ref.operation),
        pathParameters: [...ref.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]),
        pathExamples: pathExamples(contract.doc, ref.parameters),
        parent: parent !== ref.path && operationAt(contract.name, parent) ? parent : undefined,
        takesJson: !!(body?.content as Record<string, unknown> | undefined)?.['application/json'],
      };
    }),
);
