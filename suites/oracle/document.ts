import type { Contract } from '../../contracts/lib/load.js';
import type { OpenApiDocument } from '../../contracts/lib/types.js';

/**
 * The six G-REX contracts as one OpenAPI document for Prism, which takes one
 * document per instance: each path gets its API's base path (`/managementapi`
 * + `/AH/managementapi/Accounts`), so one proxy sits in front of the whole
 * mock, and each component is renamed `{contract}_{name}` so the contracts'
 * components cannot collide.
 */
export function oracleDocument(contracts: Contract[]): OpenApiDocument {
  const merged: OpenApiDocument = {
    openapi: '3.0.3',
    info: { title: 'G-REX APIs (all six, for the Prism validation proxy)', version: '1' },
    servers: [{ url: '/' }],
    paths: {},
    components: {},
  };
  for (const contract of contracts) {
    const base = new URL(contract.doc.servers?.[0]?.url ?? '/', 'http://host').pathname.replace(/\/$/, '');
    if (!base) continue;
    const prefix = `${contract.name.replace(/\W/g, '_')}_`;
    const doc = renameComponents(contract.doc, prefix) as OpenApiDocument;
    for (const [path, item] of Object.entries(doc.paths)) merged.paths[`${base}${path}`] = item;
    for (const [kind, entries] of Object.entries(doc.components ?? {})) {
      merged.components![kind] ??= {};
      for (const [name, value] of Object.entries(entries)) merged.components![kind][`${prefix}${name}`] = value;
    }
    if (doc.security) for (const path of Object.keys(doc.paths)) applyDefaultSecurity(merged.paths[`${base}${path}`], doc.security);
  }
  return merged;
}

/** A document-level `security` only applies inside its own document; the merged one carries it on each operation. */
function applyDefaultSecurity(item: Record<string, unknown>, security: Record<string, string[]>[]): void {
  for (const operation of Object.values(item)) {
    if (operation && typeof operation === 'object' && !Array.isArray(operation) && 'responses' in operation && !('security' in operation)) {
      (operation as Record<string, unknown>).security = security;
    }
  }
}

function renameComponents(node: unknown, prefix: string): unknown {
  if (Array.isArray(node)) return node.map((item) => renameComponents(item, prefix));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string') out.$ref = value.replace(/^#\/components\/([^/]+)\//, `#/components/$1/${prefix}`);
    else if (key === 'security' && Array.isArray(value)) out.security = value.map((requirement) => Object.fromEntries(Object.entries(requirement as object).map(([name, scopes]) => [`${prefix}${name}`, scopes])));
    else out[key] = renameComponents(value, prefix);
  }
  return out;
}
