import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { formatOf, MANIFEST, parseJsonOrYaml, toOpenApi3, type PullManifest, type PulledEntry } from './pulled.js';
import type { GrexInfo } from './types.js';

export interface PullOptions {
  /** Where the six APIs live: `https://eexfrancedemoapi.grexel.com`, or a mock's address. */
  origin: string;
  /** How the user named it (`demo`, `prod`, the URL), for the manifest. */
  target: string;
  apis: GrexInfo[];
  out: string;
  timeoutMs: number;
  /** The longest Retry-After the pull waits out; a longer one stops it. */
  maxWaitMs: number;
  /** One line per event, for the terminal. */
  log: (line: string) => void;
}

/** What one request got: a document, or why not and whether to stop asking the host. */
type Fetched =
  | { kind: 'document'; url: string; text: string; bytes: Buffer; contentType: string; value: unknown; format: string }
  | { kind: 'retry-after'; url: string; seconds: number }
  | { kind: 'problem'; url: string; problem: string; stop: boolean };

/** What the pull says it is, as the manual asks every client to (1.3.1). */
export const USER_AGENT = 'grex-harness contracts pull';

/** The manual's documentation address of an API: `{BaseURI}/v{n}/swagger.json` (chapter 5). */
export const swaggerUrl = (origin: string, api: GrexInfo): string => `${origin.replace(/\/$/, '')}/${api.api}/${api.version}/swagger.json`;

const TITLE = /<title[^>]*>([^<]*)<\/title>/i;

/** Seconds to wait from a Retry-After header (seconds or an HTTP date); 60 when there is none, as the manual's minute window. */
function retryAfterSeconds(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return 60;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? 60 : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** Far more than any API document (G-REX's are a few hundred KB): a longer answer is not read to the end. */
export const MAX_DOCUMENT_BYTES = 100 * 1024 * 1024;

/** One GET of a swagger.json, with the headers G-REX's firewall requires (manual 1.3.1), read and classed; `timeoutMs` bounds the whole exchange, body included. */
async function fetchOnce(url: string, timeoutMs: number): Promise<Fetched> {
  const host = new URL(url).host;
  const signal = AbortSignal.timeout(timeoutMs);
  let reply;
  let bytes: Buffer;
  try {
    reply = await request(url, { method: 'GET', headers: { accept: 'application/json', 'user-agent': USER_AGENT }, signal });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of reply.body) {
      size += chunk.length;
      if (size > MAX_DOCUMENT_BYTES) {
        reply.body.destroy();
        return { kind: 'problem', url, problem: `${reply.statusCode}: an answer of more than ${MAX_DOCUMENT_BYTES / 1024 / 1024} MB, not read to the end: no API document is that long`, stop: false };
      }
      chunks.push(chunk as Buffer);
    }
    bytes = Buffer.concat(chunks);
  } catch (error) {
    if (signal.aborted) return { kind: 'problem', url, problem: `no complete answer from ${host} within ${timeoutMs / 1000} s (--timeout)`, stop: true };
    const code = (error as { code?: string }).code;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? code ?? '';
    return { kind: 'problem', url, problem: `cannot reach ${host} (${why ? `${why}: ` : ''}${cause?.message ?? (error as Error).message})`, stop: true };
  }
  const text = bytes.toString('utf8');
  const contentType = String(reply.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  const html = contentType === 'text/html' || /^\s*<(!doctype html|html)/i.test(text);
  const title = TITLE.exec(text)?.[1]?.trim();
  const status = reply.statusCode;
  if (status === 429) return { kind: 'retry-after', url, seconds: retryAfterSeconds(reply.headers['retry-after']) };
  if (status >= 300 && status < 400) {
    const location = String(reply.headers.location ?? '(no Location)');
    return { kind: 'problem', url, problem: `${status}: redirected to ${location}, a sign-in page by the look of it: the documentation wants a signed-in browser. Open ${url} in the browser, save it into the --out folder (manual 2.2.3) and use the folder as it is`, stop: false };
  }
  if (status === 403 && html) {
    // The gateway blocks a client that keeps breaking its rules: no more requests.
    return { kind: 'problem', url, problem: `403 from G-REX's firewall (an HTML page${title ? ` "${title}"` : ''}, not JSON): the gateway refused the request although it carried Accept, Host and User-Agent (manual 1.3.1). Pull stops here: repeated refusals block the address for a while`, stop: true };
  }
  if (status === 401 || status === 403) return { kind: 'problem', url, problem: `${status}: G-REX asks for a signed-in user to read its documentation (${text.slice(0, 200).trim() || 'no body'}). Save swagger.json from a signed-in browser into the --out folder (manual 2.2.3)`, stop: false };
  if (status === 404) return { kind: 'problem', url, problem: `404: no swagger.json here`, stop: false };
  if (status >= 400) return { kind: 'problem', url, problem: `${status}: ${title ?? text.slice(0, 200).trim()}`, stop: status >= 500 };
  if (html) {
    return { kind: 'problem', url, problem: `an HTML page${title ? ` ("${title}")` : ''}, not a swagger document: a sign-in page? Open ${url} in a signed-in browser, save it into the --out folder (manual 2.2.3)`, stop: false };
  }
  let value: unknown;
  try {
    value = parseJsonOrYaml(text);
  } catch {
    return { kind: 'problem', url, problem: `${contentType || 'no content type'}, neither JSON nor YAML (${JSON.stringify(text.slice(0, 80))})`, stop: false };
  }
  const format = formatOf(value);
  if (!format) return { kind: 'problem', url, problem: 'JSON, but not a Swagger 2.0 or OpenAPI 3 document (no "swagger": "2.0" or "openapi": "3.x" with paths)', stop: false };
  return { kind: 'document', url, text, bytes, contentType, value, format };
}

/**
 * `grex-harness contracts pull`: each API's swagger.json, one after the
 * other, one request each (and one more after a 429, once its Retry-After has
 * passed); kept as it came in `original/`, converted to OpenAPI 3.0 beside
 * it, and listed with its source and date in `pull.json`. Stops asking at the
 * first sign that asking more would hurt: an unreachable host, the firewall,
 * a fair-use wait longer than allowed.
 */
export async function pullContracts(options: PullOptions): Promise<PullManifest> {
  const manifest: PullManifest = { tool: 'grex-harness contracts pull', target: options.target, pulledAt: new Date().toISOString(), documents: [], failures: [] };
  let stopped: string | undefined;
  for (const api of options.apis) {
    const url = swaggerUrl(options.origin, api);
    if (stopped) {
      manifest.failures.push({ api: api.api, version: api.version, url, problem: `not asked: ${stopped}` });
      continue;
    }
    let fetched = await fetchOnce(url, options.timeoutMs);
    if (fetched.kind === 'retry-after') {
      const { seconds } = fetched;
      if (seconds * 1000 > options.maxWaitMs) {
        fetched = { kind: 'problem', url, problem: `429: fair use (manual 1.2); G-REX asks to wait ${seconds} s (Retry-After), more than --max-wait. Pull again after ${new Date(Date.now() + seconds * 1000).toISOString()}`, stop: true };
      } else {
        options.log(`${api.api} ${api.version}: 429 (fair use, manual 1.2): waiting ${seconds} s as Retry-After asks, then once more`);
        await sleep(seconds * 1000);
        fetched = await fetchOnce(url, options.timeoutMs);
        if (fetched.kind === 'retry-after') fetched = { kind: 'problem', url, problem: `429 again after waiting ${seconds} s: fair use (manual 1.2). Pull again later`, stop: true };
      }
    }
    if (fetched.kind !== 'document') {
      const problem = fetched.kind === 'problem' ? fetched.problem : '';
      manifest.failures.push({ api: api.api, version: api.version, url, problem });
      options.log(`${api.api} ${api.version}: FAILED ${url}: ${problem}`);
      if (fetched.kind === 'problem' && fetched.stop) stopped = `pull stopped after ${api.api}`;
      continue;
    }
    const name = `${api.api}-${api.version}`;
    const original = join('original', `${name}.swagger.${/^\s*[{[]/.test(fetched.text) ? 'json' : 'yaml'}`);
    const file = `${name}.openapi.json`;
    let converted;
    try {
      converted = await toOpenApi3(fetched.value, fetched.text, url);
    } catch (error) {
      manifest.failures.push({ api: api.api, version: api.version, url, problem: (error as Error).message });
      options.log(`${api.api} ${api.version}: FAILED ${url}: ${(error as Error).message}`);
      continue;
    }
    const fetchedAt = new Date().toISOString();
    const entry: PulledEntry = {
      api: api.api,
      version: api.version,
      url,
      fetchedAt,
      contentType: fetched.contentType,
      bytes: fetched.bytes.length,
      sha256: createHash('sha256').update(fetched.bytes).digest('hex'),
      format: fetched.format,
      original,
      file,
    };
    const doc = converted.doc;
    doc.info = { ...doc.info, 'x-grex': { ...api }, 'x-grex-pulled': { source: url, fetchedAt, format: fetched.format } } as typeof doc.info;
    mkdirSync(join(options.out, 'original'), { recursive: true });
    writeFileSync(join(options.out, original), fetched.bytes);
    writeFileSync(join(options.out, file), `${JSON.stringify(doc, null, 2)}\n`);
    manifest.documents.push(entry);
    const count = Object.values(doc.paths).reduce((sum, item) => sum + Object.keys(item).filter((key) => /^(get|put|post|delete|patch|head|options|trace)$/.test(key)).length, 0);
    options.log(`${api.api} ${api.version}: ${url}: ${fetched.format}, ${count} operations -> ${join(options.out, file)} (as it came: ${join(options.out, original)})`);
  }
  if (manifest.documents.length) writeFileSync(join(options.out, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
