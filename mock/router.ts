import type { Contract } from '../contracts/lib/load.js';
import { operations, type OperationRef } from '../contracts/lib/operations.js';

export interface Route extends OperationRef {
  contract: Contract;
  operationId: string;
  /** The full request path template: `{BaseURI path}{contract path}`. */
  template: string;
}

export type Match =
  | { kind: 'found'; route: Route; params: Readonly<Record<string, string>> }
  | { kind: 'method'; allowed: string[] }
  | { kind: 'none' };

interface Segment {
  /** Lower-cased literal, or null for a templated segment. */
  literal: string | null;
  pattern?: RegExp;
  names?: string[];
}

interface Node {
  literals: Map<string, Node>;
  templated: { segment: Segment; node: Node }[];
  routes: Map<string, Route>;
}

/** B2C's paths, `/{tenant}.onmicrosoft.com/...`: Microsoft's service, not behind G-REX's gateway. */
export const B2C_PATH = /^\/[^/?]+\.onmicrosoft\.com\//i;

/** The methods that change a registry (the manual's writes, 1.3.2). */
export const WRITE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Paths whose match the router remembers, and the longest it keeps: a few MB at most. */
const ANSWERS_KEPT = 10_000;
const LONGEST_KEPT = 256;

const newNode = (): Node => ({ literals: new Map(), templated: [], routes: new Map() });

/** The path the contract's servers put before its paths: `/managementapi` for G-REX APIs, nothing for B2C (its server is the host). */
export function basePath(contract: Contract): string {
  return contract.grex.api === 'b2c' ? '' : `/${contract.grex.api}`;
}

function compileSegment(text: string): Segment {
  if (!text.includes('{')) return { literal: text.toLowerCase() };
  const names: string[] = [];
  const source = text.replace(/\{([^}]+)\}|([^{]+)/g, (_, name: string | undefined, literal: string | undefined) => {
    if (name) {
      names.push(name);
      return '([^/]+?)';
    }
    return (literal ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return { literal: null, pattern: new RegExp(`^${source}$`, 'i'), names };
}

/**
 * Routes requests to contract operations. Literal segments match without
 * regard to case (ASP.NET routing, which G-REX runs on, ignores it) and win
 * over templated ones; a path that exists with another method gives 405.
 */
export class Router {
  private readonly root = newNode();
  readonly routes: Route[] = [];
  /**
   * Answers already worked out, by method and path: clients ask for the same
   * few paths again and again, and a walk splits, lower-cases and decodes
   * every segment. Bounded: forgotten when full. Parameters are frozen, as
   * every request with that path shares them.
   */
  private readonly answered = new Map<string, Match>();
  /** The APIs' base paths (`/managementapi`, ...), which a client may have left out of its base URI. */
  private readonly bases: string[];

  constructor(contracts: Contract[]) {
    this.bases = [...new Set(contracts.map(basePath).filter(Boolean))];
    for (const contract of contracts) {
      for (const ref of operations(contract.doc)) {
        const template = `${basePath(contract)}${ref.path}`;
        const route: Route = { ...ref, contract, operationId: String(ref.operation.operationId), template };
        this.routes.push(route);
        let node = this.root;
        for (const text of template.split('/').slice(1)) {
          const segment = compileSegment(text);
          if (segment.literal !== null) {
            let next = node.literals.get(segment.literal);
            if (!next) node.literals.set(segment.literal, (next = newNode()));
            node = next;
          } else {
            let entry = node.templated.find((candidate) => candidate.segment.pattern?.source === segment.pattern?.source);
            if (!entry) node.templated.push((entry = { segment, node: newNode() }));
            node = entry.node;
          }
        }
        node.routes.set(ref.method.toUpperCase(), route);
      }
    }
  }

  match(method: string, path: string): Match {
    if (path.length > LONGEST_KEPT) return this.find(method, path);
    const key = `${method} ${path}`;
    let match = this.answered.get(key);
    if (match === undefined) {
      match = this.find(method, path);
      if (match.kind === 'found') Object.freeze(match.params);
      if (this.answered.size >= ANSWERS_KEPT) this.answered.clear();
      this.answered.set(key, match);
    }
    return match;
  }

  /**
   * For a path no route matches (off the hot path): the path the client
   * probably meant, if it exists: without the trailing slash, with single
   * slashes, or with the API's base path the client left out of its base URI.
   */
  suggest(path: string): string | undefined {
    const tidy = path.replace(/\/{2,}/g, '/').replace(/(.)\/+$/, '$1');
    const candidates = [tidy, ...this.bases.map((base) => `${base}${tidy}`)];
    return candidates.find((candidate) => candidate !== path && this.find('GET', candidate).kind !== 'none');
  }

  private find(method: string, path: string): Match {
    const segments = path.split('/').slice(1);
    const params: Record<string, string> = {};
    const node = this.walk(this.root, segments, 0, params);
    if (!node) return { kind: 'none' };
    const route = node.routes.get(method === 'HEAD' ? 'GET' : method);
    if (route) return { kind: 'found', route, params };
    return { kind: 'method', allowed: [...node.routes.keys()] };
  }

  private walk(node: Node, segments: string[], index: number, params: Record<string, string>): Node | null {
    if (index === segments.length) return node.routes.size > 0 ? node : null;
    const raw = segments[index];
    if (raw === '') return null;
    const literal = node.literals.get(raw.toLowerCase());
    if (literal) {
      const found = this.walk(literal, segments, index + 1, params);
      if (found) return found;
    }
    for (const { segment, node: next } of node.templated) {
      const match = segment.pattern?.exec(raw);
      if (!match) continue;
      const names = segment.names ?? [];
      let decoded: string[];
      try {
        decoded = match.slice(1).map((value) => decodeURIComponent(value));
      } catch {
        continue;
      }
      names.forEach((name, i) => (params[name] = decoded[i]));
      const found = this.walk(next, segments, index + 1, params);
      if (found) return found;
      for (const name of names) delete params[name];
    }
    return null;
  }
}
