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
  /** Bytes the kept exchanges may take (estimated from their text); the oldest go first. Default 64 MiB. */
  maxBytes?: number;
  /** Bodies longer than this are cut, with a marker. */
  maxBodyChars: number;
  /** Append every exchange to this NDJSON file as well. */
  spillFile?: string;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/**
 * What the ring keeps of an exchange: few objects, because every entry lives
 * long enough to reach the old generation and a ring of them churns it. The
 * request's headers stay a flat list like Node's `rawHeaders` (of interned
 * strings), the decisions one string; `entries()` gives back the full `Exchange`.
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

/**
 * One copy of each string the ring keeps again and again: a client's bearer
 * token, its other header values, a URL it polls, the same answer. Node makes
 * a new string for each request; kept in the ring, every one of them would
 * survive into the old generation, and garbage collection was most of the
 * journal's cost. Bounded: forgets everything when full.
 */
class Interner {
  private readonly known = new Map<string, string>();
  private chars = 0;

  constructor(
    /** Characters it may hold (UTF-16 code units). */
    private readonly budget: number,
    /** Longer strings are kept as they are: a long one rarely comes again. */
    private readonly longest: number,
  ) {}

  intern<T extends string | undefined>(text: T): T {
    if (text === undefined || text.length > this.longest) return text;
    const known = this.known.get(text);
    if (known !== undefined) return known as T;
    if (this.chars + text.length > this.budget) {
      this.known.clear();
      this.chars = 0;
    }
    this.known.set(text, text);
    this.chars += text.length;
    return text;
  }
}

function compact(exchange: Exchange, rawHeaders: string[], strings: Interner): Entry {
  const headers = new Array<string>(rawHeaders.length);
  for (let i = 0; i < rawHeaders.length; i++) headers[i] = strings.intern(rawHeaders[i]);
  return {
    id: exchange.id,
    startedAt: exchange.startedAt,
    durationMs: exchange.durationMs,
    client: strings.intern(exchange.client),
    method: exchange.request.method,
    url: strings.intern(exchange.request.url),
    rawHeaders: headers,
    requestBody: exchange.request.body,
    status: exchange.response.status,
    responseHeaders: exchange.response.headers,
    responseBody: strings.intern(exchange.response.body),
    operationId: exchange.operationId,
    user: exchange.user,
    organization: exchange.organization,
    decisions: strings.intern(exchange.decisions.map((d) => `${d.stage}${FIELD}${d.outcome}${FIELD}${d.code ?? ''}${FIELD}${d.detail ?? ''}`).join(RECORD)),
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
 * Every exchange with what each pipeline stage decided, bounded however long
 * the mock runs: a ring of at most `capacity` exchanges and about `maxBytes`
 * bytes (bodies, URL and headers counted), optionally spilled to an NDJSON
 * file for whole-run grading.
 *
 * Entries stay compact objects: serialising each exchange on the hot path
 * (tried: a byte ring of NDJSON lines) cost more than keeping the objects.
 */
export class Journal {
  private readonly ring: (Entry | undefined)[];
  private readonly sizes: Float64Array;
  private readonly maxBytes: number;
  /** The oldest entry is at `first`; `count` of them, `bytes` in all. */
  private first = 0;
  private count = 0;
  private bytes = 0;
  private total = 0;
  private spill: WriteStream | undefined;
  private readonly strings = new Interner(4 * 1024 * 1024, 8192);

  constructor(private readonly options: JournalOptions) {
    this.ring = new Array(Math.max(0, options.capacity));
    this.sizes = new Float64Array(this.ring.length);
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    if (options.spillFile) this.spill = createWriteStream(options.spillFile, { flags: 'a' });
  }

  get size(): number {
    return this.count;
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

  /** `rawHeaders` is the request's own (Node's flat list). */
  record(exchange: Exchange, rawHeaders: string[]): void {
    this.total++;
    const capacity = this.ring.length;
    if (capacity === 0 && !this.spill) return;
    const entry = compact(exchange, rawHeaders, this.strings);
    this.spill?.write(`${JSON.stringify(expand(entry))}\n`);
    if (capacity === 0) return;
    // UTF-16 code units, two bytes each, and a little for the objects around them.
    let size = 512 + entry.url.length + (entry.requestBody?.length ?? 0) + (entry.responseBody?.length ?? 0) + entry.decisions.length;
    for (const text of rawHeaders) size += text.length;
    size *= 2;
    if (size > this.maxBytes) return;
    while (this.count > 0 && (this.count === capacity || this.bytes + size > this.maxBytes)) {
      this.bytes -= this.sizes[this.first];
      this.ring[this.first] = undefined;
      this.first = (this.first + 1) % capacity;
      this.count--;
    }
    const slot = (this.first + this.count) % capacity;
    this.ring[slot] = entry;
    this.sizes[slot] = size;
    this.bytes += size;
    this.count++;
  }

  /** Oldest first; the last `limit` only, if given. */
  entries(limit = Number.POSITIVE_INFINITY): Exchange[] {
    const out: Exchange[] = [];
    for (let i = Math.max(0, this.count - limit); i < this.count; i++) out.push(expand(this.ring[(this.first + i) % this.ring.length] as Entry));
    return out;
  }

  /** The same as NDJSON lines. */
  lines(limit?: number): string[] {
    return this.entries(limit).map((exchange) => JSON.stringify(exchange));
  }

  clear(): void {
    this.ring.fill(undefined);
    this.first = 0;
    this.count = 0;
    this.bytes = 0;
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
