import type { RegistryData } from '../../mock/domain/model.js';
import { parseFilter, parseOrderBy } from '../../mock/domain/query.js';
import { CODE_PATTERN, envelopeUses } from './codes.js';
import { defaultFixtures, exampleUserFor, exampleUsers, fixtureValues, type ExampleUser } from './examples.js';
import type { Contract, ContractSet } from './load.js';
import { collectionItems, deref, isWrite, operations } from './operations.js';
import { SchemaValidator } from './schema.js';
import type { Grant, JsonObject, Operation } from './types.js';

/**
 * The project's own rules for contracts (contracts/README.md), beyond what the
 * Redocly ruleset checks. Each finding names its rule, so a test can show that
 * a broken contract trips exactly the rule it breaks.
 */
export interface Violation {
  rule: string;
  contract: string;
  where: string;
  message: string;
}

const SCOPES = new Set(['domain', 'organisation', 'public']);
const SOURCES = new Set(['manual', 'reconstructed', 'microsoft-docs']);
const HEADINGS = ['**General**', '**Permission**', '**Validation and responses**'];
const HOSTS = ['https://eexfranceapi.grexel.com', 'https://eexfrancedemoapi.grexel.com'];

/** What examples are checked against: the default fixtures' values by field name, and the users examples are written for. */
interface ExampleContext {
  values: Map<string, Set<string>>;
  users: ExampleUser[];
}

/** `fixtures`: the registry the mock starts from (the default profile and seed unless given). */
export function checkContracts(set: ContractSet, fixtures: RegistryData = defaultFixtures()): Violation[] {
  const context: ExampleContext = { values: fixtureValues(fixtures), users: exampleUsers(set, fixtures) };
  const violations = set.contracts.flatMap((contract) => checkContract(contract, set, context));
  const seen = new Map<string, string>();
  for (const contract of set.contracts) {
    for (const { operation, method, path } of operations(contract.doc)) {
      const id = operation.operationId;
      if (!id) continue;
      const other = seen.get(id);
      if (other) violations.push({ rule: 'operation.operationId', contract: contract.name, where: `${method.toUpperCase()} ${path}`, message: `operationId ${id} is also used in ${other}` });
      seen.set(id, contract.name);
    }
  }
  return violations;
}

function checkContract(contract: Contract, set: ContractSet, context: ExampleContext): Violation[] {
  const { doc } = contract;
  const found: Violation[] = [];
  const report = (rule: string, where: string, message: string): void => {
    found.push({ rule, contract: contract.name, where, message });
  };
  const validator = new SchemaValidator(doc);
  const ibRoles = new Set(set.roles.issuingBody);
  const knownRoles = new Set([...set.roles.issuingBody, ...set.roles.accountHolder]);
  const tags = new Set((doc.tags ?? []).map((tag) => tag.name));
  let createdValues: Map<string, Set<string>> | undefined;

  if (doc.openapi !== '3.0.3') report('document.openapi', 'openapi', `is ${doc.openapi}, expected 3.0.3`);
  const urls = (doc.servers ?? []).map((server) => server.url);
  if (contract.grex.api !== 'b2c') {
    for (const host of HOSTS) {
      if (!urls.includes(`${host}/${contract.grex.api}`)) report('document.servers', 'servers', `lacks ${host}/${contract.grex.api}`);
    }
  }
  if (!urls.some((url) => url.startsWith('http://127.0.0.1:'))) report('document.servers', 'servers', 'lacks the local mock server');

  for (const [key, example] of Object.entries(contract.raw.components?.examples ?? {})) {
    const value = example.value as JsonObject | undefined;
    if (!value || typeof value !== 'object' || typeof value.responseCode !== 'string') continue;
    if (value.responseCode !== key) report('code.key', `components.examples.${key}`, `is keyed ${key} but its responseCode is ${String(value.responseCode)}`);
    if (!CODE_PATTERN.test(key)) report('code.pattern', `components.examples.${key}`, 'is not {AREA}_{NNN}');
    if (!SOURCES.has(String(example['x-source']))) report('code.source', `components.examples.${key}`, 'has no x-source: manual | reconstructed');
  }
  for (const use of envelopeUses(contract)) {
    if (use.status !== String(use.statusCode)) report('code.status', `${use.operationId} ${use.status}`, `lists ${use.code}, whose statusCode is ${use.statusCode}`);
    if (use.key !== use.code) report('code.key', `${use.operationId} ${use.status}`, `lists ${use.code} under the key ${use.key}`);
  }

  for (const { path, method, operation, parameters } of operations(doc)) {
    const where = `${method.toUpperCase()} ${path}`;
    const id = operation.operationId;
    if (!id) report('operation.operationId', where, 'has no operationId');
    else if (!/^[a-z][A-Za-z0-9]+$/.test(id)) report('operation.operationId', where, `${id} is not camelCase`);

    if (!operation.tags?.length) report('operation.tag', where, 'has no tag');
    for (const tag of operation.tags ?? []) if (!tags.has(tag)) report('operation.tag', where, `tag ${tag} is not declared in tags`);

    const grants = operation['x-permissions'];
    const security = operation.security ?? doc.security;
    if (!Array.isArray(grants) || grants.length === 0) {
      report('operation.permissions', where, 'has no x-permissions');
    } else {
      checkGrants(grants, path, where, knownRoles, ibRoles, report);
      const anonymous = grants.every((grant) => grant.scope === 'public');
      if (security === undefined) report('operation.security', where, 'has no security decision');
      else if (anonymous !== (security.length === 0)) {
        report('operation.security', where, anonymous ? 'is public in x-permissions but requires a token' : 'requires roles but has no security');
      }
      if (!anonymous && !operation.responses?.['401']) report('operation.responses', where, 'requires a token but documents no 401');
    }

    const description = operation.description ?? '';
    const positions = HEADINGS.map((heading) => description.indexOf(heading));
    if (positions.some((at) => at < 0) || positions.some((at, i) => i > 0 && at < positions[i - 1])) {
      report('operation.description', where, `lacks the manual's parts in order: ${HEADINGS.join(', ')}`);
    }

    // B2C is Microsoft's service with its own error model (OAuth errors, AADB2C codes); the G-REX envelope rules stop at its door.
    const grex = contract.grex.api !== 'b2c';
    if (grex) for (const status of ['429', '500']) if (!operation.responses?.[status]) report('operation.responses', where, `documents no ${status}`);

    const body = operation.requestBody ? deref<JsonObject>(doc, operation.requestBody) : undefined;
    for (const [mediaType, media] of Object.entries((body?.content as Record<string, JsonObject>) ?? {})) {
      checkExamples(media, `${where} request ${mediaType}`);
    }
    for (const [status, reference] of Object.entries(operation.responses ?? {})) {
      const response = deref<JsonObject>(doc, reference);
      for (const [mediaType, media] of Object.entries((response.content as Record<string, JsonObject>) ?? {})) {
        checkExamples(media, `${where} ${status} ${mediaType}`);
      }
    }

    const ok = operation.responses?.['200'] ? deref<JsonObject>(doc, operation.responses['200']) : undefined;
    const okSchema = (ok?.content as Record<string, JsonObject> | undefined)?.['application/json']?.schema;
    if (method === 'get' && okSchema && deref<JsonObject>(doc, okSchema).type === 'array') {
      const query = new Set(parameters.filter((p) => p.in === 'query').map((p) => p.name));
      for (const name of ['$top', '$skip']) if (!query.has(name)) report('collection.paging', where, `is a collection GET without ${name}`);
    }

    if (grex) checkParameterExamples(operation, parameters, where);

    if (grex && isWrite(method) && body) {
      const codes = envelopeUses(contract).filter((use) => use.operationId === id && use.status === '400').map((use) => use.code);
      for (const suffix of ['_002', '_004']) {
        if (!codes.some((code) => code.endsWith(suffix))) report('write.codes', where, `400 lists no ${suffix} code`);
      }
    }
  }
  return found;

  /**
   * Examples are what Swagger UI's "Try it out" and the Postman exports send:
   * each must work on the mock as it starts, for the user it is written for.
   */
  function checkParameterExamples(operation: Operation, parameters: JsonObject[], where: string): void {
    if (exampleUserFor(operation, context.users) === undefined) {
      report('example.user', where, `none of the example users (${context.users.map((user) => user.username).join(', ')}) holds a role it grants`);
    }
    const items = collectionItems(doc, operation);
    for (const parameter of parameters) {
      const name = String(parameter.name);
      const schema = parameter.schema ? deref<JsonObject>(doc, parameter.schema) : undefined;
      const example = parameter.example ?? schema?.example;
      if (example === undefined) {
        report('parameter.example', `${where} ${name}`, 'has no example (Postman and Swagger UI would send a placeholder)');
        continue;
      }
      if (name === '$filter' || name === '$orderby') {
        const fields = items?.fields ?? new Set<string>();
        const parsed = name === '$filter' ? parseFilter(String(example), fields, items?.name) : parseOrderBy(String(example), fields, items?.name);
        if (!parsed.ok) report('example.query', `${where} ${name}`, `example "${String(example)}": ${parsed.problem}`);
      }
      const known = context.values.get(name);
      if (known && !known.has(String(example)) && !created().get(name)?.has(String(example))) {
        report('example.fixture', `${where} ${name}`, `example ${String(example)} is no ${name} of the default fixtures, nor one a POST example of this API creates`);
      }
    }
  }

  /** Values the POST examples' bodies write (a new device's gsrn): a later example may name what an earlier one creates. */
  function created(): Map<string, Set<string>> {
    if (createdValues) return createdValues;
    const bodies = operations(doc)
      .filter((ref) => ref.method === 'post' && ref.operation.requestBody)
      .flatMap((ref) => Object.values((deref<JsonObject>(doc, ref.operation.requestBody).content as Record<string, JsonObject>) ?? {}))
      .flatMap((media) => ['example' in media ? media.example : undefined, ...Object.values((media.examples as Record<string, JsonObject>) ?? {}).map((example) => deref<JsonObject>(doc, example).value)]);
    return (createdValues = fixtureValues(bodies));
  }

  function checkExamples(media: JsonObject, where: string): void {
    const schema = media.schema ? (media.schema as object) : undefined;
    const examples: [string, unknown][] = [];
    if ('example' in media) examples.push(['example', media.example]);
    for (const [name, example] of Object.entries((media.examples as Record<string, JsonObject>) ?? {})) {
      examples.push([name, deref<JsonObject>(doc, example).value]);
    }
    if (examples.length === 0) {
      report('response.example', where, 'has no example');
      return;
    }
    if (!schema) return;
    for (const [name, value] of examples) {
      const errors = validator.validate(schema, value);
      if (errors.length) report('example.schema', `${where} example ${name}`, errors.join('; '));
    }
  }
}

function checkGrants(
  grants: Grant[],
  path: string,
  where: string,
  known: Set<string>,
  ib: Set<string>,
  report: (rule: string, where: string, message: string) => void,
): void {
  for (const grant of grants) {
    if (typeof grant.functionality !== 'string' || !grant.functionality) report('operation.permissions', where, 'a grant has no functionality');
    if (!SCOPES.has(grant.scope)) report('operation.permissions', where, `scope ${String(grant.scope)} is not domain | organisation | public`);
    if (!Array.isArray(grant.roles)) {
      report('operation.permissions', where, 'a grant has no roles list');
      continue;
    }
    if (grant.scope === 'public' ? grant.roles.length > 0 : grant.roles.length === 0) {
      report('operation.permissions', where, grant.scope === 'public' ? 'a public grant names roles' : 'a grant names no role');
    }
    for (const role of grant.roles) {
      if (!known.has(role)) report('operation.permissions', where, `unknown role ${role}`);
      else if (path.startsWith('/IB/') && !ib.has(role)) report('operation.permissions', where, `${role} is not an issuing-body role`);
    }
  }
}
