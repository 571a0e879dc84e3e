import { METHODS, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { JSON_TYPE, type MockApp } from './app.js';
import type { Exchange } from './journal.js';

/**
 * The largest request head (request line and headers) the gateway takes, in
 * bytes: Node's own default, given to the server explicitly so that the
 * answer can name it.
 */
export const HEAD_LIMIT_BYTES = 16_384;

/** Header lines of a refused head that the journal keeps; the rest are only counted. */
const KEPT_HEADER_LINES = 100;
/** What is read of the packet that crossed the limit (Node reads at most 64 KiB at a time). */
const EXAMINED_BYTES = 64 * 1024;
/** How long a refused client may go on sending (it reads the answer meanwhile) before its connection is cut. */
const LINGER_MS = 2000;

/** Connections whose head was refused: Node's parser reports every later packet of them too, and those are no new request. */
const refused = new WeakSet<Socket>();

/** Node's own answers to the other client errors, which it gives only while nobody listens for them. */
const NODE_ANSWERS: Record<string, string> = { HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large', ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout' };

type ClientError = NodeJS.ErrnoException & { rawPacket?: Buffer };

/**
 * A head over the limit never reaches the request listener: Node's parser
 * refuses it and reports a `clientError`, which by default answers a bare
 * 431 and resets the connection, unjournaled. Here it gets the gateway's
 * documented answer (431 REQUEST_031, common.yaml, with the CORS headers of
 * every answer) and a journal entry made
 * of what is known: the client's address and the packet that crossed the
 * limit (`rawPacket`), whose request line and first header lines are those
 * of the refused request when it begins with one (a client that writes its
 * head at once: undici, curl, Node). Memory stays bounded: Node's parser
 * keeps at most the limit, and of the packet only its first 64 KiB are read.
 * The connection is half-closed after the answer and cut `LINGER_MS` later,
 * so a client still sending reads the answer instead of a reset.
 */
export function answerOversizedHeads(server: Server, app: MockApp): void {
  server.on('clientError', (error: ClientError, socket: Socket) => {
    if (error.code !== 'HPE_HEADER_OVERFLOW') {
      answerAsNode(error, socket);
      return;
    }
    if (refused.has(socket)) return;
    refused.add(socket);
    const body = JSON.stringify(app.codes.envelope('REQUEST_031', { limit: HEAD_LIMIT_BYTES }));
    // With CORS, as on every other answer: a browser page can build a URL over the limit, and must be able to read why it was refused.
    const headers = { ...app.corsHeaders, 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body), connection: 'close' };
    if (socket.writable) socket.end(`HTTP/1.1 431 Request Header Fields Too Large\r\n${Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n${body}`);
    const cut = setTimeout(() => socket.destroy(), LINGER_MS).unref();
    socket.once('close', () => clearTimeout(cut));
    const head = readHead(error.rawPacket);
    const exchange: Exchange = {
      id: app.journal.nextId(),
      startedAt: app.clock.iso(),
      durationMs: 0,
      client: socket.remoteAddress ?? '',
      request: { method: head.method, url: head.url, headers: {} },
      response: { status: 431, headers, body },
      decisions: [{ stage: 'validate', outcome: 'reject', code: 'REQUEST_031', detail: head.detail }],
    };
    app.journal.record(exchange, head.rawHeaders);
  });
}

/** What Node does with a client error nobody handles (lib/_http_server.js socketOnError): a bare status, unless an answer is already under way. */
function answerAsNode(error: ClientError, socket: Socket): void {
  const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (socket.writable && !answering) socket.write(`HTTP/1.1 ${NODE_ANSWERS[error.code ?? ''] ?? '400 Bad Request'}\r\nConnection: close\r\n\r\n`);
  socket.destroy(error);
}

/** The request line and header lines of the packet that crossed the limit, if it begins the request. */
function readHead(packet: Buffer | undefined): { method: string; url: string; rawHeaders: string[]; detail: string } {
  const over = `request head over ${HEAD_LIMIT_BYTES} bytes`;
  // latin1, as Node decodes heads: one character per byte, never a broken sequence at the cut.
  const text = packet ? packet.toString('latin1', 0, Math.min(packet.length, EXAMINED_BYTES)) : '';
  const lines = text.split('\r\n');
  const request = /^([A-Z]+) (\S+)(?: HTTP\/\d\.\d)?$/.exec(lines[0]);
  if (!request || !METHODS.includes(request[1])) return { method: '', url: '', rawHeaders: [], detail: `${over}; its request line came in an earlier packet, so its method and URL are not known` };
  // The last line is cut by the packet's end unless the head ended before it.
  const blank = lines.indexOf('', 1);
  const complete = blank < 0 ? lines.slice(1, -1) : lines.slice(1, blank);
  const rawHeaders: string[] = [];
  for (const line of complete.slice(0, KEPT_HEADER_LINES)) {
    const colon = line.indexOf(':');
    if (colon > 0) rawHeaders.push(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const kept = complete.length > KEPT_HEADER_LINES ? `the first ${KEPT_HEADER_LINES} of ${complete.length} header lines seen are journaled` : `${complete.length} header lines seen`;
  const cut = lines.length === 1 ? `; the request line was cut after ${text.length} bytes` : '';
  return { method: request[1], url: request[2], rawHeaders, detail: `${over}; ${kept}${cut}` };
}
