/**
 * The OData subset G-REX collections take: `$filter` with eq, ne, gt, ge, lt,
 * le, and, or, not, parentheses, contains() and startswith(); `$orderby` on
 * one field. Parsing errors are values naming what is wrong, for `_002`: an
 * unknown field is named with the resource and the fields it has, so the
 * refusal teaches what to write instead.
 */

type Value = string | number | boolean | null;
type Node =
  | { kind: 'compare'; field: string; op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; value: Value }
  | { kind: 'function'; name: 'contains' | 'startswith' | 'endswith'; field: string; value: string }
  | { kind: 'and' | 'or'; left: Node; right: Node }
  | { kind: 'not'; operand: Node };

export type Predicate = (item: Record<string, unknown>) => boolean;
export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

const TOKEN = /\s*(?:(\()|(\))|(,)|'((?:[^']|'')*)'|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?![\w-])|(\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?)|([A-Za-z_][A-Za-z0-9_]*))/y;

interface Token {
  type: '(' | ')' | ',' | 'string' | 'number' | 'date' | 'word';
  text: string;
}

function tokenize(text: string): Token[] | string {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    TOKEN.lastIndex = at;
    const match = TOKEN.exec(text);
    if (!match) return `unexpected text at position ${at + 1}: "${text.slice(at, at + 12)}"`;
    at = TOKEN.lastIndex;
    if (match[1]) tokens.push({ type: '(', text: '(' });
    else if (match[2]) tokens.push({ type: ')', text: ')' });
    else if (match[3]) tokens.push({ type: ',', text: ',' });
    else if (match[4] !== undefined) tokens.push({ type: 'string', text: match[4].replace(/''/g, "'") });
    else if (match[5]) tokens.push({ type: 'number', text: match[5] });
    else if (match[6]) tokens.push({ type: 'date', text: match[6] });
    else tokens.push({ type: 'word', text: match[7] });
  }
  return tokens;
}

const COMPARISONS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const FUNCTIONS = new Set(['contains', 'startswith', 'endswith']);

/** `unknown field 'status' for EnergySource; fields: code, name, ...` */
function unknownField(name: string, fields: ReadonlySet<string>, resource: string | undefined): string {
  return `unknown field '${name}'${resource ? ` for ${resource}` : ''}; fields: ${[...fields].join(', ') || 'none'}`;
}

export function parseFilter(text: string, fields: ReadonlySet<string>, resource?: string): Parsed<Predicate> {
  const tokens = tokenize(text);
  if (typeof tokens === 'string') return { ok: false, problem: tokens };
  let index = 0;
  const peek = (): Token | undefined => tokens[index];
  const word = (expected: string): boolean => peek()?.type === 'word' && peek()?.text.toLowerCase() === expected;
  const fail = (problem: string): never => {
    throw new SyntaxError(problem);
  };
  const field = (): string => {
    const token = tokens[index++];
    if (token?.type !== 'word') fail(`expected a field name at "${token?.text ?? 'the end'}"`);
    if (!fields.has(token.text)) fail(unknownField(token.text, fields, resource));
    return token.text;
  };
  const literal = (): Value => {
    const token = tokens[index++];
    if (!token) return fail('expected a value at the end');
    if (token.type === 'string' || token.type === 'date') return token.text;
    if (token.type === 'number') return Number(token.text);
    if (token.type === 'word' && ['true', 'false', 'null'].includes(token.text)) return token.text === 'null' ? null : token.text === 'true';
    return fail(`expected a value at "${token.text}"`);
  };
  const expect = (type: Token['type']): void => {
    if (tokens[index++]?.type !== type) fail(`expected "${type}"`);
  };
  const primary = (): Node => {
    if (peek()?.type === '(') {
      index++;
      const node = or();
      expect(')');
      return node;
    }
    if (word('not')) {
      index++;
      return { kind: 'not', operand: primary() };
    }
    const head = peek();
    if (head?.type === 'word' && FUNCTIONS.has(head.text.toLowerCase()) && tokens[index + 1]?.type === '(') {
      index += 2;
      const name = head.text.toLowerCase() as 'contains' | 'startswith' | 'endswith';
      const target = field();
      expect(',');
      const value = literal();
      if (typeof value !== 'string') fail(`${name}() takes a quoted text`);
      expect(')');
      return { kind: 'function', name, field: target, value: value as string };
    }
    const target = field();
    const op = tokens[index++];
    if (op?.type !== 'word' || !COMPARISONS.has(op.text.toLowerCase())) fail(`expected eq, ne, gt, ge, lt or le after ${target}`);
    return { kind: 'compare', field: target, op: op.text.toLowerCase() as 'eq', value: literal() };
  };
  const and = (): Node => {
    let node = primary();
    while (word('and')) {
      index++;
      node = { kind: 'and', left: node, right: primary() };
    }
    return node;
  };
  const or = (): Node => {
    let node = and();
    while (word('or')) {
      index++;
      node = { kind: 'or', left: node, right: and() };
    }
    return node;
  };
  try {
    const tree = or();
    if (index < tokens.length) fail(`unexpected "${tokens[index].text}"`);
    return { ok: true, value: (item) => evaluate(tree, item) };
  } catch (error) {
    return { ok: false, problem: (error as Error).message };
  }
}

function compare(left: unknown, right: Value): number | null {
  if (left === null || left === undefined || right === null) return null;
  if (typeof left === 'number' && typeof right === 'number') return left - right;
  const a = String(left);
  const b = String(right);
  return a < b ? -1 : a > b ? 1 : 0;
}

function evaluate(node: Node, item: Record<string, unknown>): boolean {
  switch (node.kind) {
    case 'and':
      return evaluate(node.left, item) && evaluate(node.right, item);
    case 'or':
      return evaluate(node.left, item) || evaluate(node.right, item);
    case 'not':
      return !evaluate(node.operand, item);
    case 'function': {
      const value = item[node.field];
      if (typeof value !== 'string') return false;
      const text = value.toLowerCase();
      const needle = node.value.toLowerCase();
      return node.name === 'contains' ? text.includes(needle) : node.name === 'startswith' ? text.startsWith(needle) : text.endsWith(needle);
    }
    case 'compare': {
      const value = item[node.field];
      if (node.op === 'eq') return node.value === null ? value === null || value === undefined : compare(value, node.value) === 0;
      if (node.op === 'ne') return node.value === null ? value !== null && value !== undefined : compare(value, node.value) !== 0;
      const order = compare(value, node.value);
      if (order === null) return false;
      return node.op === 'gt' ? order > 0 : node.op === 'ge' ? order >= 0 : node.op === 'lt' ? order < 0 : order <= 0;
    }
  }
}

export type Comparator = (a: Record<string, unknown>, b: Record<string, unknown>) => number;

export function parseOrderBy(text: string, fields: ReadonlySet<string>, resource?: string): Parsed<Comparator> {
  const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?\s*$/i.exec(text);
  if (!match) return { ok: false, problem: 'expected one field name, optionally followed by asc or desc' };
  const [, field, direction] = match;
  if (!fields.has(field)) return { ok: false, problem: unknownField(field, fields, resource) };
  const sign = direction?.toLowerCase() === 'desc' ? -1 : 1;
  return {
    ok: true,
    value: (a, b) => {
      const order = compare(a[field], b[field] as Value);
      if (order === null) return (a[field] == null ? 1 : 0) - (b[field] == null ? 1 : 0);
      return sign * order;
    },
  };
}
