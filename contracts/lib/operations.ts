import type { HttpMethod, JsonObject, OpenApiDocument, Operation } from './types.js';
import { HTTP_METHODS } from './types.js';

export interface OperationRef {
  path: string;
  method: HttpMethod;
  operation: Operation;
  /** Path-level parameters merged with the operation's, operation first. */
  parameters: JsonObject[];
}

export function operations(doc: OpenApiDocument): OperationRef[] {
  const found: OperationRef[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    const shared = (item.parameters as JsonObject[] | undefined) ?? [];
    for (const method of HTTP_METHODS) {
      const operation = item[method] as Operation | undefined;
      if (!operation) continue;
      const own = (operation.parameters ?? []).map((parameter) => deref(doc, parameter));
      const names = new Set(own.map((parameter) => `${parameter.in}:${parameter.name}`));
      const inherited = shared.map((parameter) => deref(doc, parameter)).filter((parameter) => !names.has(`${parameter.in}:${parameter.name}`));
      found.push({ path, method, operation, parameters: [...own, ...inherited] });
    }
  }
  return found;
}

export const isWrite = (method: HttpMethod): boolean => method === 'post' || method === 'put' || method === 'patch' || method === 'delete';

/** Follows local `$ref`s (`#/components/...`) until a value that is not a reference. */
export function deref<T = JsonObject>(doc: OpenApiDocument, node: unknown): T {
  let current = node as JsonObject;
  for (let hops = 0; current && typeof current.$ref === 'string'; hops++) {
    if (hops > 32) throw new Error(`$ref cycle at ${String(current.$ref)}`);
    current = pointer(doc, current.$ref as string) as JsonObject;
  }
  return current as T;
}

export function pointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`not a local $ref: ${ref}`);
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = (node as Record<string, unknown> | undefined)?.[key];
    if (node === undefined) throw new Error(`$ref ${ref} does not resolve`);
  }
  return node;
}

/** What a collection GET answers an array of: the item schema's name (its `$ref`) and fields, which `$filter` and `$orderby` may name. */
export interface CollectionItems {
  name: string;
  fields: ReadonlySet<string>;
}

export function collectionItems(doc: OpenApiDocument, operation: Operation): CollectionItems | undefined {
  const ok = operation.responses?.['200'];
  const schema = ok ? (deref<JsonObject>(doc, ok).content as Record<string, JsonObject> | undefined)?.['application/json']?.schema : undefined;
  const array = schema ? deref<JsonObject>(doc, schema) : undefined;
  if (array?.type !== 'array' || !array.items) return undefined;
  const reference = (array.items as JsonObject).$ref;
  const items = deref<JsonObject>(doc, array.items);
  if (!items.properties) return undefined;
  return { name: typeof reference === 'string' ? reference.slice(reference.lastIndexOf('/') + 1) : 'item', fields: new Set(Object.keys(items.properties as object)) };
}
