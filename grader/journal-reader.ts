import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { Exchange } from '../mock/journal.js';

/** A journal that cannot be graded: missing, unreadable, or a line that is not an exchange. */
export class JournalError extends Error {}

export type ExchangeSink = (exchange: Exchange, line: number) => void;

function asExchange(value: unknown, where: string): Exchange {
  const exchange = value as Partial<Exchange> | null;
  const missing =
    !exchange || typeof exchange !== 'object'
      ? 'not an object'
      : typeof exchange.startedAt !== 'string'
        ? 'no startedAt'
        : typeof exchange.request?.method !== 'string' || typeof exchange.request.url !== 'string'
          ? 'no request.method and request.url'
          : typeof exchange.response?.status !== 'number'
            ? 'no response.status'
            : '';
  if (missing) throw new JournalError(`${where}: not a journal exchange (${missing})`);
  const full = exchange as Exchange;
  full.request.headers ??= {};
  full.response.headers ??= {};
  full.decisions ??= [];
  full.client ??= '';
  return full;
}

/**
 * Streams an NDJSON journal (mock/journal.ts, one exchange a line) to `sink`,
 * chunk by chunk: memory stays that of one chunk whatever the file's size.
 * A HAR file (`GET /__admin/journal?format=har`, or a browser's) is read whole.
 */
export async function readJournal(file: string, sink: ExchangeSink): Promise<number> {
  const head = await firstBytes(file);
  if (/\.har$/i.test(file) || /^\s*\{\s*"log"\s*:/.test(head)) return readHar(file, sink);
  let line = 0;
  let rest: Buffer | null = null;
  const take = (text: string) => {
    line++;
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(withoutResponseBody(text));
    } catch (error) {
      throw new JournalError(`${file} line ${line}: not JSON (${(error as Error).message})`);
    }
    sink(asExchange(value, `${file} line ${line}`), line);
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let start = 0;
    if (rest) {
      const end = chunk.indexOf(10);
      // Only the line that spans the two chunks is copied.
      if (end < 0) {
        rest = Buffer.concat([rest, chunk]);
        continue;
      }
      take(Buffer.concat([rest, chunk.subarray(0, end)]).toString('utf8'));
      start = end + 1;
      rest = null;
    }
    for (let end = chunk.indexOf(10, start); end >= 0; end = chunk.indexOf(10, start)) {
      take(chunk.toString('utf8', start, end));
      start = end + 1;
    }
    if (start < chunk.length) rest = Buffer.from(chunk.subarray(start));
  }
  if (rest) take(rest.toString('utf8'));
  return line;
}

const RESPONSE = '"response":{"status":';
const BODY = ',"body":"';
/** The keys the mock writes after `response` (mock/journal.ts), the first present ends the response body. */
const AFTER_RESPONSE = [',"operationId":"', ',"user":"', ',"organization":"', ',"decisions":['];

/**
 * The line without its response body, which no rule reads and which is half
 * of a line (a page of accounts): parsing it would be a third of the grader's
 * time. In JSON text every quote inside a string is escaped, so these
 * unescaped markers can only be the journal's own keys; a line they do not
 * fit is parsed whole.
 */
export function withoutResponseBody(text: string): string {
  const response = text.indexOf(RESPONSE);
  if (response < 0) return text;
  const body = text.indexOf(BODY, response + RESPONSE.length);
  if (body < 0) return text;
  const decisions = text.lastIndexOf(AFTER_RESPONSE[3]);
  if (decisions < body) return text;
  let end = decisions;
  for (const key of AFTER_RESPONSE.slice(0, 3)) {
    const at = text.lastIndexOf(key, end);
    if (at > body) {
      end = at;
      break;
    }
  }
  // The body string closes with `"}` (its quote, the response object's brace) right before the next key.
  if (text.charCodeAt(end - 1) !== 125 || text.charCodeAt(end - 2) !== 34) return text;
  return `${text.slice(0, body)}}${text.slice(end)}`;
}

async function firstBytes(file: string): Promise<string> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new JournalError(code === 'ENOENT' ? `${file}: no such file` : code === 'EISDIR' ? `${file}: is a directory, not a journal` : `${file}: ${(error as Error).message}`);
  }
  try {
    const buffer = Buffer.alloc(64);
    const { bytesRead } = await handle.read(buffer, 0, 64, 0);
    return buffer.toString('utf8', 0, bytesRead);
  } finally {
    await handle.close();
  }
}

interface HarEntry {
  startedDateTime: string;
  time?: number;
  request: { method: string; url: string; headers?: { name: string; value: string }[]; postData?: { text?: string } };
  response: { status: number; headers?: { name: string; value: string }[]; content?: { text?: string } };
  _grex?: { id?: number; operationId?: string; user?: string; organization?: string; decisions?: Exchange['decisions'] };
  serverIPAddress?: string;
}

function headerObject(list: { name: string; value: string }[] = []): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const { name, value } of list) {
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  return headers;
}

async function readHar(file: string, sink: ExchangeSink): Promise<number> {
  let entries: HarEntry[];
  try {
    entries = (JSON.parse(await readFile(file, 'utf8')) as { log: { entries: HarEntry[] } }).log.entries;
    if (!Array.isArray(entries)) throw new Error('log.entries is not a list');
  } catch (error) {
    throw new JournalError(`${file}: not a HAR file (${(error as Error).message})`);
  }
  entries.forEach((entry, index) => {
    const where = `${file} entry ${index + 1}`;
    if (!entry?.request || !entry.response) throw new JournalError(`${where}: not a HAR entry (no request or response)`);
    const exchange: Exchange = {
      id: entry._grex?.id ?? index + 1,
      startedAt: entry.startedDateTime,
      durationMs: entry.time ?? 0,
      client: 'har',
      request: { method: entry.request.method, url: entry.request.url, headers: headerObject(entry.request.headers), ...(entry.request.postData?.text !== undefined ? { body: entry.request.postData.text } : {}) },
      response: { status: entry.response.status, headers: headerObject(entry.response.headers), ...(entry.response.content?.text ? { body: entry.response.content.text } : {}) },
      ...(entry._grex?.operationId ? { operationId: entry._grex.operationId } : {}),
      ...(entry._grex?.organization ? { organization: entry._grex.organization } : {}),
      decisions: entry._grex?.decisions ?? [],
    };
    sink(asExchange(exchange, where), index + 1);
  });
  return entries.length;
}
