import { readFileSync } from 'node:fs';
import { escapeHtml } from './html.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Contract } from '../contracts/lib/load.js';
import type { OpenApiDocument } from '../contracts/lib/types.js';
import type { Outcome } from './outcome.js';

const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};
const assetCache = new Map<string, Buffer>();
const HTML = 'text/html; charset=utf-8';
const NO_CACHE = { 'cache-control': 'no-cache' };

/** Where a contract's documentation lives: `{BaseURI}/v{n}/` as on G-REX (manual chapter 5), B2C under /__docs/. */
export function docsPath(contract: Contract): string {
  return contract.grex.api === 'b2c' ? '/__docs/b2c/' : `/${contract.grex.api}/${contract.grex.version}/`;
}

/**
 * Serves each API's Swagger UI and swagger.json offline, the way G-REX serves
 * them, plus an index at /__docs/. Answers false when the path is not a
 * documentation path, so the caller can go on with the API pipeline.
 * `bend` sees every page before it is sent (the test-only faults).
 */
export interface DocsOptions {
  /** The fixture users request examples are written for (common.yaml x-example-users). */
  exampleUsers?: readonly string[];
  /** Sent with every page and file (the mock's CORS headers). */
  headers?: Readonly<Record<string, string>>;
  /** Sees every page before it is sent (the test-only faults). */
  bend?: (page: Outcome) => Outcome;
}

export function createDocs(contracts: Contract[], { exampleUsers = [], headers = {}, bend = (page) => page }: DocsOptions = {}): (req: IncomingMessage, res: ServerResponse, pathname: string) => boolean {
  /** A page's body is its text or bytes (a fault may have made it JSON). */
  const send = (res: ServerResponse, page: Outcome): void => {
    const { body } = page;
    const payload = typeof body === 'string' ? Buffer.from(body) : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body ?? null));
    res.writeHead(page.status, { ...headers, ...page.headers, 'content-type': page.contentType ?? 'application/json; charset=utf-8', 'content-length': payload.length });
    res.end(res.req.method === 'HEAD' ? undefined : payload);
  };
  const byRoot = new Map(contracts.map((contract) => [docsPath(contract), contract]));
  return (req, res, pathname) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    // Documentation lives at /{api}/v{n}/ or under /__docs: API paths (/{api}/AH/..., /{api}/IB/...) leave here at once.
    const second = pathname.indexOf('/', 1);
    if (second > 0 && pathname.charCodeAt(second + 1) !== 118 /* v */ && !pathname.startsWith('/__docs')) return false;
    if (pathname === '/__docs' || pathname === '/__docs/') {
      send(res, bend({ status: 200, contentType: HTML, body: indexPage(contracts, origin(req), exampleUsers), headers: NO_CACHE }));
      return true;
    }
    const slash = pathname.lastIndexOf('/');
    const root = pathname.slice(0, slash + 1);
    const leaf = pathname.slice(slash + 1);
    const contract = byRoot.get(root) ?? (leaf === '' ? undefined : byRoot.get(`${pathname}/`));
    if (!contract) return false;
    if (!byRoot.has(root)) {
      res.writeHead(301, { ...headers, location: `${pathname}/`, 'content-length': '0' }).end();
      return true;
    }
    if (leaf === '' || leaf === 'index.html') {
      send(res, bend({ status: 200, contentType: HTML, body: swaggerPage(contract), headers: NO_CACHE }));
    } else if (leaf === 'swagger.json') {
      const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
      const served = contract.pulled ? pulledDocument(contract.pulled.original, req.headers.host, scheme) : servedDocument(contract.doc, req.headers.host, scheme, exampleUsers);
      send(res, bend({ status: 200, contentType: 'application/json; charset=utf-8', body: JSON.stringify(served, null, 2), headers: NO_CACHE }));
    } else if (ASSETS[leaf]) {
      let asset = assetCache.get(leaf);
      if (!asset) assetCache.set(leaf, (asset = readFileSync(join(SWAGGER_UI_DIR, leaf))));
      send(res, bend({ status: 200, contentType: ASSETS[leaf], body: asset, headers: { 'cache-control': 'public, max-age=3600' } }));
    } else {
      return false;
    }
    return true;
  };
}

const origin = (req: IncomingMessage): string => `${(req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'}://${req.headers.host ?? '127.0.0.1:4600'}`;

/** How to get a token from this mock, with a browser and without one (the Authorize dialog and /__docs/ say it). */
function tokenHowTo(here: string, exampleUsers: readonly string[]): string {
  const user = exampleUsers[0] ?? 'eolien-root';
  return [
    `Without a browser: \`curl -s -X POST ${here}/__admin/token -H 'Content-Type: application/json' -d '{"user":"${user}"}'\` answers \`access_token\` (the users: \`GET ${here}/__admin/users\`).`,
    `With a browser: sign in at ${here}/ as the G-REX UI does (password \`Grex-Mock-2026!\`, the MFA code at \`GET ${here}/__admin/mfa?user=${user}\`), and copy the token the page shows.`,
    ...(exampleUsers.length ? [`The examples of each operation are written for the first of ${exampleUsers.map((name) => `\`${name}\``).join(', ')} whose role it grants.`] : []),
  ].join('\n\n');
}

/**
 * The contract as served: the local server first, at the host the browser
 * used, so "Try it out" hits the mock; and the Authorize dialog (the bearer
 * scheme's description) says how to get a token from this mock.
 */
export function servedDocument(doc: OpenApiDocument, host: string | undefined, scheme = 'http', exampleUsers: readonly string[] = []): OpenApiDocument {
  if (!host || !doc.servers) return doc;
  const here = `${scheme}://${host}`;
  const servers = doc.servers.map((server) => {
    const local = /^http:\/\/127\.0\.0\.1:\d+(\/.*)?$/.exec(server.url);
    return local ? { ...server, url: `${here}${local[1] ?? ''}` } : server;
  });
  servers.sort((a, b) => Number(b.url.startsWith(here)) - Number(a.url.startsWith(here)));
  const schemes = doc.components?.securitySchemes;
  if (!schemes) return { ...doc, servers };
  const described = Object.fromEntries(
    Object.entries(schemes).map(([name, securityScheme]) => [name, { ...securityScheme, description: `${String(securityScheme.description ?? '')}\n\n**On this grex-harness mock.** ${tokenHowTo(here, exampleUsers)}` }]),
  );
  return { ...doc, servers, components: { ...doc.components, securitySchemes: described } };
}

/**
 * G-REX's own document (`--contracts DIR`) as it came, Swagger 2.0 or
 * OpenAPI 3: the mock plays G-REX, whose swagger.json it is. Only its address
 * becomes the mock's, as for the contracts, so "Try it out" reaches the mock.
 */
function pulledDocument(original: unknown, host: string | undefined, scheme: string): unknown {
  const doc = original as { swagger?: string; servers?: { url?: string }[] };
  if (!host) return doc;
  if (doc.swagger === '2.0') return { ...doc, host, schemes: [scheme] };
  const servers = doc.servers ?? [];
  let path = '';
  try {
    path = new URL(servers[0]?.url ?? '', 'http://grex.invalid').pathname.replace(/\/$/, '');
  } catch {
    // A server URL that does not parse: the mock's address at its root.
  }
  return { ...doc, servers: [{ url: `${scheme}://${host}${path}`, description: 'This grex-harness mock, serving this document' }, ...servers] };
}


function swaggerPage(contract: Contract): string {
  const title = escapeHtml(`${contract.doc.info.title} ${contract.grex.version}`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<link rel="stylesheet" href="./swagger-ui.css">
<link rel="icon" type="image/png" href="./favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="./swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({
  url: './swagger.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout'
});
</script>
</body>
</html>
`;
}

function indexPage(contracts: Contract[], here: string, exampleUsers: readonly string[]): string {
  const rows = contracts
    .map((contract) => {
      const path = docsPath(contract);
      const name = escapeHtml(`${contract.doc.info.title} ${contract.grex.version}`);
      return `<li><a href="${path}">${name}</a> (<a href="${path}swagger.json">swagger.json</a>)</li>`;
    })
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><link rel="icon" href="data:,"><title>grex-harness: G-REX API documentation</title></head>
<body>
<h1>G-REX API documentation (grex-harness mock)</h1>
<ul>
${rows}
</ul>
<h2>A token for "Try it out"</h2>
${tokenHowTo(here, exampleUsers)
  .split('\n\n')
  .map((line) => `<p>${escapeHtml(line).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>`)
  .join('\n')}
<p>Then click <em>Authorize</em> on an API's page and paste the token (without "Bearer ").</p>
<h2>Postman and newman</h2>
<p><code>npm run postman</code> writes every API as a Postman collection, an environment per example user and the newman commands that run them.</p>
</body>
</html>
`;
}
