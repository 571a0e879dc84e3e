import { deref } from './operations.js';
import type { Grant, JsonObject, OpenApiDocument } from './types.js';
import { HTTP_METHODS } from './types.js';

/**
 * Turns a contract that references `./common.yaml` into one self-contained
 * document: every referenced shared part is copied under the document's own
 * `components` (with what it references in turn) and the reference made local.
 * Served swagger.json files, Prism and the Postman converter all need one file.
 */
export function bundle(raw: OpenApiDocument, common: OpenApiDocument, roles: RoleCatalogue): OpenApiDocument {
  const doc = structuredClone(raw);
  const components = (doc.components ??= {});
  const commonComponents = common.components ?? {};
  const imported = new Set<string>();

  const importShared = (pointer: string): void => {
    const [, kind, name] = pointer.split('/').slice(1);
    const key = `${kind}/${name}`;
    if (imported.has(key)) return;
    imported.add(key);
    const shared = commonComponents[kind]?.[name];
    if (shared === undefined) throw new Error(`${raw.info.title}: $ref to common.yaml#${pointer}, which does not exist`);
    const local = (components[kind] ??= {});
    // `B2CBearer: {$ref: './common.yaml#/components/securitySchemes/B2CBearer'}` names the shared part locally.
    const alias = local[name]?.$ref === `./common.yaml#${pointer}` || local[name]?.$ref === `#${pointer}`;
    if (local[name] !== undefined && !alias && JSON.stringify(local[name]) !== JSON.stringify(shared)) {
      throw new Error(`${raw.info.title}: components.${kind}.${name} is defined locally and in common.yaml`);
    }
    local[name] = structuredClone(shared);
    rewrite(local[name], true);
  };

  const rewrite = (node: unknown, fromCommon: boolean): void => {
    if (Array.isArray(node)) {
      for (const item of node) rewrite(item, fromCommon);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const object = node as Record<string, unknown>;
    const ref = object.$ref;
    if (typeof ref === 'string') {
      if (ref.startsWith('./common.yaml#/components/')) {
        const pointer = ref.slice('./common.yaml#'.length);
        importShared(pointer);
        object.$ref = `#${pointer}`;
      } else if (fromCommon && ref.startsWith('#/components/')) {
        importShared(ref.slice(1));
      } else if (!ref.startsWith('#/')) {
        throw new Error(`${raw.info.title}: unsupported $ref ${ref}`);
      }
    }
    for (const [key, value] of Object.entries(object)) if (key !== '$ref') rewrite(value, fromCommon);
  };

  rewrite(doc, false);
  for (const [kind, entries] of Object.entries(components)) {
    if (Object.keys(entries).length === 0) delete components[kind];
  }
  insertPermissionParts(doc, roles);
  applyParameterExamples(doc);
  return doc;
}

/**
 * A shared parameter (`$filter`, `$orderby`) is written once in common.yaml,
 * but its example belongs to each operation: the fields of one resource are
 * not another's. `x-parameter-examples: {$filter: "...", ...}` on an
 * operation gives them; here each named parameter becomes the operation's own
 * copy with that example, which Swagger UI fills in and the Postman export sends.
 */
function applyParameterExamples(doc: OpenApiDocument): void {
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method] as JsonObject | undefined;
      const examples = operation?.['x-parameter-examples'] as JsonObject | undefined;
      if (!operation || !examples) continue;
      delete operation['x-parameter-examples'];
      const unused = new Set(Object.keys(examples));
      const own = ((operation.parameters ?? []) as JsonObject[]).map((parameter) => {
        const resolved = deref<JsonObject>(doc, parameter);
        const name = String(resolved.name);
        if (!unused.delete(name)) return parameter;
        return { ...structuredClone(resolved), example: examples[name] };
      });
      // A path-level parameter (an id shared by the path's operations) is overridden by the operation's own copy.
      for (const parameter of (item.parameters ?? []) as JsonObject[]) {
        const resolved = deref<JsonObject>(doc, parameter);
        const name = String(resolved.name);
        if (unused.delete(name)) own.push({ ...structuredClone(resolved), example: examples[name] });
      }
      operation.parameters = own;
      if (unused.size) throw new Error(`${doc.info.title}: ${method.toUpperCase()} ${path} x-parameter-examples names ${[...unused].join(', ')}, not a parameter of the operation`);
    }
  }
}

export interface RoleCatalogue {
  issuingBody: string[];
  accountHolder: string[];
}

const VALIDATION_HEADING = '**Validation and responses**';
const SCOPE_WORDS: Record<Grant['scope'], string> = {
  domain: 'every organisation of the domain',
  organisation: "the caller's own organisation",
  public: 'anonymous, no token',
};

/** The manual's "Permission" part (Figure 25), generated from `x-permissions` so the roles are said once. */
export function permissionPart(grants: Grant[], roles: RoleCatalogue): string {
  if (grants.every((grant) => grant.scope === 'public')) {
    return '**Permission**\n\nAnonymous: no token is needed. Fair use applies per client address.\n';
  }
  const used = new Set(grants.flatMap((grant) => grant.roles));
  const columns = [...roles.issuingBody, ...roles.accountHolder].filter((role) => used.has(role));
  const header = `| Functionality | Data | ${columns.join(' | ')} |`;
  const rule = `|---|---|${columns.map(() => ':-:').join('|')}|`;
  const rows = grants.map(
    (grant) =>
      `| ${grant.functionality} | ${SCOPE_WORDS[grant.scope]} | ${columns.map((role) => (grant.roles.includes(role) ? '✓' : '')).join(' | ')} |`,
  );
  return ['**Permission**', '', header, rule, ...rows, ''].join('\n');
}

function insertPermissionParts(doc: OpenApiDocument, roles: RoleCatalogue): void {
  for (const item of Object.values(doc.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method] as JsonObject | undefined;
      if (!operation) continue;
      const grants = operation['x-permissions'] as unknown as Grant[] | undefined;
      const description = operation.description;
      if (!Array.isArray(grants) || typeof description !== 'string') continue;
      const at = description.indexOf(VALIDATION_HEADING);
      if (at < 0) continue;
      operation.description = `${description.slice(0, at)}${permissionPart(grants, roles)}\n${description.slice(at)}`;
    }
  }
}
