import { deref } from '../contracts/lib/operations.js';
import type { JsonObject, OpenApiDocument } from '../contracts/lib/types.js';

/** The declaration in common.yaml (`info.x-grex-xml`): which media types answer XML, in which namespace. */
export interface XmlDeclaration {
  mediaTypes: string[];
  namespace: string;
}

const INSTANCE = 'http://www.w3.org/2001/XMLSchema-instance';
/** Where DataContractSerializer puts the items of a list of primitives. */
const ARRAYS = 'http://schemas.microsoft.com/2003/10/Serialization/Arrays';

export function xmlDeclaration(common: OpenApiDocument): XmlDeclaration | undefined {
  const declared = common.info['x-grex-xml'] as JsonObject | undefined;
  if (!declared || !Array.isArray(declared.mediaTypes) || typeof declared.namespace !== 'string') return undefined;
  return { mediaTypes: declared.mediaTypes.map(String), namespace: declared.namespace };
}

/** XML 1.0 text: markup escaped, characters it cannot carry left out. */
const escaped = (text: string): string =>
  text.replace(/[&<>]/g, (char) => (char === '&' ? '&amp;' : char === '<' ? '&lt;' : '&gt;')).replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '');

/** `accountNumber` -> `AccountNumber`: a .NET property name, and a valid element name. */
const element = (name: string): string => {
  const clean = name.replace(/[^A-Za-z0-9_.-]/g, '_');
  return /^[A-Za-z_]/.test(clean) ? clean[0].toUpperCase() + clean.slice(1) : `_${clean}`;
};

/** The contract's name for a schema (`#/components/schemas/Account` -> `Account`), if it is a reference to one. */
function typeName(node: unknown): string | undefined {
  const ref = (node as JsonObject | undefined)?.$ref;
  return typeof ref === 'string' && /^#\/components\/schemas\/[^/]+$/.test(ref) ? ref.slice(ref.lastIndexOf('/') + 1) : undefined;
}

/** DataContract's names for primitives: `ArrayOfstring`, `<d2p1:int>`. */
function primitiveName(schema: JsonObject, value: unknown): string {
  const type = schema.type ?? (typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value);
  if (type === 'integer') return schema.format === 'int64' ? 'long' : 'int';
  if (type === 'number') return 'double';
  if (type === 'boolean') return 'boolean';
  return 'string';
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * A JSON answer as ASP.NET's DataContractSerializer writes it, guided by the
 * answer's schema: the root element is the schema's type name (a list is
 * `ArrayOf{Item}`), members are PascalCase elements in alphabetical order, a
 * null is `i:nil`, and the items of a list of primitives live in the
 * serialization Arrays namespace.
 */
export class DataContractWriter {
  constructor(
    private readonly doc: OpenApiDocument,
    private readonly namespace: string,
  ) {}

  write(value: unknown, schemaNode: unknown): string {
    const schema = this.resolve(schemaNode);
    const namespaces = `xmlns:i="${INSTANCE}"`;
    if (Array.isArray(value)) {
      const itemNode = schema.items;
      const item = this.resolve(itemNode);
      if (this.isPrimitive(item, value[0])) {
        const name = primitiveName(item, value[0]);
        return `<ArrayOf${name} ${namespaces} xmlns="${ARRAYS}">${value.map((entry) => this.leaf(name, entry)).join('')}</ArrayOf${name}>`;
      }
      const name = typeName(itemNode) ?? 'Item';
      return `<ArrayOf${name} ${namespaces} xmlns="${this.namespace}">${value.map((entry) => this.node(name, entry, itemNode)).join('')}</ArrayOf${name}>`;
    }
    return this.node(typeName(schemaNode) ?? 'Response', value, schemaNode, ` ${namespaces} xmlns="${this.namespace}"`);
  }

  private resolve(node: unknown): JsonObject {
    if (!node) return {};
    try {
      return deref<JsonObject>(this.doc, node);
    } catch {
      return {};
    }
  }

  private isPrimitive(schema: JsonObject, value: unknown): boolean {
    if (schema.type === 'object' || schema.type === 'array' || schema.properties || schema.items) return false;
    return value === undefined || value === null || typeof value !== 'object';
  }

  private leaf(name: string, value: unknown, prefix = ''): string {
    if (value === null || value === undefined) return `<${prefix}${name} i:nil="true"/>`;
    return `<${prefix}${name}>${escaped(String(value))}</${prefix}${name}>`;
  }

  /** One element: a member, or a list's item, by its schema. */
  private node(name: string, value: unknown, schemaNode: unknown, attributes = ''): string {
    if (value === null || value === undefined) return `<${name}${attributes} i:nil="true"/>`;
    const schema = this.resolve(schemaNode);
    if (Array.isArray(value)) {
      const itemNode = schema.items;
      const item = this.resolve(itemNode);
      if (this.isPrimitive(item, value[0])) {
        const leafName = primitiveName(item, value[0]);
        return `<${name}${attributes} xmlns:d2p1="${ARRAYS}">${value.map((entry) => this.leaf(leafName, entry, 'd2p1:')).join('')}</${name}>`;
      }
      const itemName = typeName(itemNode) ?? 'Item';
      return `<${name}${attributes}>${value.map((entry) => this.node(itemName, entry, itemNode)).join('')}</${name}>`;
    }
    if (!isObject(value)) return `<${name}${attributes}>${escaped(String(value))}</${name}>`;
    const properties = (schema.properties ?? {}) as Record<string, unknown>;
    // DataContractSerializer writes members without an explicit order alphabetically (ordinal).
    const members = Object.keys(value)
      .map((key) => ({ key, tag: element(key) }))
      .sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
    return `<${name}${attributes}>${members.map(({ key, tag }) => this.node(tag, value[key], properties[key])).join('')}</${name}>`;
  }
}
