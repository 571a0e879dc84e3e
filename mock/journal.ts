import { createWriteStream, type WriteStream } from 'node:fs';

export type Stage = 'firewall' | 'fairuse' | 'auth' | 'route' | 'validate' | 'domain' | 'response' | 'admin' | 'docs';

export interface Decision {
  stage: Stage;
  outcome: 'pass' | 'reject' | 'error';
  code?: string;
  detail?: string;
}

export interface Exchange {
  id: number;
  /** On the mock's clock. */
  startedAt: string;
  durationMs: number;
  client: string;
  request: { method: string; url: string; headers: Record<string, string | string[] | undefined>; body?: string };
  response: { status: number; headers: Record<string, string | number>; body?: string };
  operationId?: string;
  user?: string;
  organization?: string;
  decisions: Decision[];
}

export interface JournalOptions {
  /** Exchanges kept in memory; older ones are dropped (or were spilled). */
  capacity: number;
  /** Bodies longer than this are cut, with a marker. */
  maxBodyChars: number;
  /** Append every exchange to this NDJSON file as well. */
  spillFile?: string;
}

/**
 * What the ring keeps of an exchange: few objects, because every entry lives
 * long enough to reach the old generation and a ring of them churns it. The
 * request's headers stay as Node's flat `rawHeaders`, the decisions as one
 * string; `entries()` gives back the full `Exchange`.
 */
interface Entry {
  id: number;
  startedAt: string;
  durationMs: number;
  client: string;
  method: string;
  url: string;
  rawHeaders: string[];
  requestBody?: string;
  status: number;
  responseHeaders: Record<string, string | number>;
  responseBody?: string;
  operationId?: string;
  user?: string;
  organization?: string;
  decisions: string;
}

const FIELD = '\u001f';
const RECORD = '\u001e';

function compact(exchange: Exchange, rawHeaders: string[]): Entry {
  return {
    id: exchange.id,
    startedAt: exchange.startedAt,
    durationMs: exchange.durationMs,
    client: exchange.client,
    method: exchange.request.method,
    url: exchange.request.url,
    rawHeaders,
    requestBody: exchange.request.body,
    status: exchange.response.status,
    responseHeaders: exchange.response.headers,
    responseBody: exchange.response.body,
    operationId: exchange.operationId,
    user: exchange.user,
    organization: exchange.organization,
    decisions: exchange.decisions.map((d) => `${d.stage}${FIELD}${d.outcome}${FIELD}${d.code ?? ''}${FIELD}${d.detail ?? ''}`).join(RECORD),
  };
}

/** Node's `req.headers` from its `rawHeaders`: names in lower case, repeated ones joined (set-cookie kept as a list). */
function headersOf(raw: string[]): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const known = headers[name];
    if (known === undefined) headers[name] = name === 'set-cookie' ? [raw[i + 1]] : raw[i + 1];
    else if (Array.isArray(known)) known.push(raw[i + 1]);
    else headers[name] = `${known}, ${raw[i + 1]}`;
  }
  return headers;
}

function expand(entry: Entry): Exchange {
  const decisions: Decision[] = entry.decisions
    ? entry.decisions.split(RECORD).map((text) => {
        const [stage, outcome, code, detail] = text.split(FIELD);
        return { stage: stage as Stage, outcome: outcome as Decision['outcome'], ...(code ? { code } : {}), ...(detail ? { detail } : {}) };
      })
    : [];
  return {
    id: entry.id,
    startedAt: entry.startedAt,
    durationMs: entry.durationMs,
    client: entry.client,
    request: { method: entry.method, url: entry.url, headers: headersOf(entry.rawHeaders), ...(entry.requestBody !== undefined ? { body: entry.requestBody } : {}) },
    response: { status: entry.status, headers: entry.responseHeaders, ...(entry.responseBody !== undefined ? { body: entry.responseBody } : {}) },
    ...(entry.operationId ? { operationId: entry.operationId } : {}),
    ...(entry.user ? { user: entry.user } : {}),
    ...(entry.organization ? { organization: entry.organization } : {}),
    decisions,
  };
}

/**
 * Every exchange with what each pipeline stage decided: a ring of fixed
 * capacity, so memory stays bounded however long the mock runs, optionally
 * spilled to an NDJSON file for whole-run grading.
 */
export class Journal {
  private readonly ring: (Entry | undefined)[];
  private next = 0;
  private total = 0;
  private spill: WriteStream | undefined;

  constructor(private readonly options: JournalOptions) {
    this.ring = new Array(options.capacity);
    if (options.spillFile) this.spill = createWriteStream(options.spillFile, { flags: 'a' });
  }

  get size(): number {
    return Math.min(this.total, this.ring.length);
  }

  get recorded(): number {
    return this.total;
  }

  nextId(): number {
    return this.total + 1;
  }

  cut(body: string | undefined): string | undefined {
    if (body === undefined || body.length <= this.options.maxBodyChars) return body;
    return `${body.slice(0, this.options.maxBodyChars)}…[${body.length - this.options.maxBodyChars} more characters]`;
  }

  /** `rawHeaders` is the request's own (Node's flat list), kept instead of a copy. */
  record(exchange: Exchange, rawHeaders: string[]): void {
    this.total++;
    if (this.ring.length === 0 && !this.spill) return;
    const entry = compact(exchange, rawHeaders);
    if (this.ring.length) {
      this.ring[this.next] = entry;
      this.next = (this.next + 1) % this.ring.length;
    }
    this.spill?.write(`${JSON.stringify(expand(entry))}\n`);
  }

  /** Oldest first. */
  entries(): Exchange[] {
    const out: Exchange[] = [];
    const size = this.size;
    const start = this.total > this.ring.length ? this.next : 0;
    for (let i = 0; i < size; i++) out.push(expand(this.ring[(start + i) % this.ring.length] as Entry));
    return out;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.next = 0;
    this.total = 0;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.spill ? this.spill.end(resolve) : resolve()));
  }
}

/** HAR 1.2, for browsers' and proxies' tools. */
export function toHar(exchanges: Exchange[]): object {
  const pairs = (headers: Record<string, unknown>) =>
    Object.entries(headers).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).filter((v) => v !== undefined).map((v) => ({ name, value: String(v) })));
  return {
    log: {
      version: '1.2',
      creator: { name: 'grex-harness', version: '0.1.0' },
      entries: exchanges.map((exchange) => {
        const url = new URL(exchange.request.url, 'http://mock');
        return {
          startedDateTime: exchange.startedAt,
          time: exchange.durationMs,
          request: {
            method: exchange.request.method,
            url: exchange.request.url,
            httpVersion: 'HTTP/1.1',
            headers: pairs(exchange.request.headers),
            queryString: [...url.searchParams].map(([name, value]) => ({ name, value })),
            cookies: [],
            headersSize: -1,
            bodySize: exchange.request.body?.length ?? 0,
            ...(exchange.request.body !== undefined ? { postData: { mimeType: String(exchange.request.headers['content-type'] ?? ''), text: exchange.request.body } } : {}),
          },
          response: {
            status: exchange.response.status,
            statusText: '',
            httpVersion: 'HTTP/1.1',
            headers: pairs(exchange.response.headers),
            cookies: [],
            content: { size: exchange.response.body?.length ?? 0, mimeType: String(exchange.response.headers['content-type'] ?? ''), text: exchange.response.body ?? '' },
            redirectURL: '',
            headersSize: -1,
            bodySize: exchange.response.body?.length ?? 0,
          },
          cache: {},
          timings: { send: 0, wait: exchange.durationMs, receive: 0 },
          _grex: { id: exchange.id, operationId: exchange.operationId, user: exchange.user, organization: exchange.organization, decisions: exchange.decisions },
        };
      }),
    },
  };
}
