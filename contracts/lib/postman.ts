import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeUser, exampleUserFor, type ExampleUser } from './examples.js';
import { CONTRACTS_DIR, type Contract } from './load.js';
import { deref, operations } from './operations.js';
import type { JsonObject, Operation } from './types.js';

export interface PostmanCollection {
  info: { name: string; schema: string; [key: string]: unknown };
  item: PostmanItem[];
  variable?: { key: string; value?: unknown }[];
  auth?: unknown;
  event?: PostmanEvent[];
  [key: string]: unknown;
}

interface PostmanValue {
  key: string;
  value?: string;
  [key: string]: unknown;
}

interface PostmanRequest {
  method: string;
  url: { host?: string[]; path?: string[]; query?: PostmanValue[]; variable?: PostmanValue[] };
  body?: { mode?: string; urlencoded?: PostmanValue[] };
  description?: { content: string; type: string };
  [key: string]: unknown;
}

interface PostmanItem {
  name: string;
  description?: string | { content: string };
  item?: PostmanItem[];
  request?: PostmanRequest;
  event?: PostmanEvent[];
  protocolProfileBehavior?: Record<string, unknown>;
  [key: string]: unknown;
}

type PostmanEvent = { listen: 'prerequest' | 'test'; script: { type: 'text/javascript'; exec: string[] } };

const script = (listen: PostmanEvent['listen'], exec: string[]): PostmanEvent => ({ listen, script: { type: 'text/javascript', exec } });

/** The folder of the requests that need no token (the Public Reports API). */
export const ANONYMOUS_FOLDER = 'anonymous';

/**
 * Converts one contract into a Postman collection with openapi-to-postmanv2,
 * then wires it to the manual's Postman environments (App. 1 to 5): no host
 * is written in a collection, every request goes to an environment's
 * variable (`{{BaseURI…API}}`, `{{B2CHost}}`), which `grex-harness postman`
 * points at the mock unless asked for DEMO or PROD by name.
 */
export async function toPostman(contract: Contract, users: readonly ExampleUser[]): Promise<PostmanCollection> {
  // A copy: wiring changes the collection in place, and the prebuilt one is kept for the next call.
  const collection = structuredClone(prebuiltConversion(contract)) ?? (await convert(contract));
  return contract.grex.postmanVariable ? wireGrex(collection, contract, users) : wireB2C(collection, contract);
}

/**
 * The converter's collections, made by `npm run build` for the bundled
 * contracts: openapi-to-postmanv2 is a build-time tool (about a hundred
 * packages), not something the installed tool carries. Each is keyed by the
 * document it came from, so a changed contract is converted again.
 */
export const PREBUILT_POSTMAN = 'postman.converted.json';

export const documentHash = (contract: Contract): string => createHash('sha1').update(JSON.stringify(contract.doc)).digest('hex');

let prebuilt: Record<string, { hash: string; collection: PostmanCollection }> | undefined;

function prebuiltConversion(contract: Contract): PostmanCollection | undefined {
  try {
    prebuilt ??= JSON.parse(readFileSync(join(CONTRACTS_DIR, PREBUILT_POSTMAN), 'utf8')) as NonNullable<typeof prebuilt>;
  } catch {
    prebuilt = {};
  }
  const kept = prebuilt[contract.name];
  return kept?.hash === documentHash(contract) ? kept.collection : undefined;
}

/** The contract through openapi-to-postmanv2, unwired. */
export async function convert(contract: Contract): Promise<PostmanCollection> {
  let converter: typeof import('openapi-to-postmanv2').default;
  try {
    converter = (await import('openapi-to-postmanv2')).default;
  } catch {
    throw new Error(`${contract.name}: not one of the contracts converted at build time, and openapi-to-postmanv2 (a development dependency) is not installed`);
  }
  return new Promise((resolve, reject) => {
    converter.convertV2(
      { type: 'json', data: contract.doc },
      { folderStrategy: 'Tags', parametersResolution: 'Example', requestNameSource: 'Fallback' },
      (error, result) => {
        if (error) return reject(new Error(`${contract.name}: ${error.message}`));
        const output = result?.output?.[0];
        if (!result?.result || !output) return reject(new Error(`${contract.name}: ${result?.reason ?? 'conversion failed'}`));
        resolve(output.data as PostmanCollection);
      },
    );
  });
}

/** The operation behind each converted request, by method and path shape (`{id}`, `:id` and `{{variable}}` alike). */
function operationsByRequest(contract: Contract): (request: PostmanRequest) => Operation {
  const shape = (path: string): string => path.replace(/\{\{[^}]+\}\}|\{[^}]+\}|(?<=\/):[^/]+/g, '{}');
  const byKey = new Map(operations(contract.doc).map((ref) => [`${ref.method.toUpperCase()} ${shape(ref.path)}`, ref.operation]));
  return (request) => {
    const path = `/${(request.url.path ?? []).join('/')}`;
    const operation = byKey.get(`${request.method} ${shape(path)}`);
    if (!operation) throw new Error(`${contract.name}: no operation for the converted request ${request.method} /${path}`);
    return operation;
  };
}

function* requestsOf(items: PostmanItem[]): Generator<PostmanItem & { request: PostmanRequest }> {
  for (const item of items) {
    if (item.item) yield* requestsOf(item.item);
    else if (item.request) yield item as PostmanItem & { request: PostmanRequest };
  }
}

const prepend = (request: PostmanRequest, text: string): void => {
  request.description = { content: `${text}\n\n${request.description?.content ?? ''}`, type: 'text/plain' };
};

/**
 * On the mock only: the environments `grex-local-<user>` name a fixture user
 * (`Username`) and the admin API (`GrexHarnessAdmin`), and this script gets
 * that user's token before a request, as `{{Token}}`. Elsewhere (DEMO, PROD)
 * neither is set and `Token` is yours to fill in (manual 2.2.3.1).
 */
const TOKEN_SCRIPT = [
  "const admin = pm.environment.get('GrexHarnessAdmin');",
  "const user = pm.environment.get('Username');",
  "const fresh = pm.environment.get('TokenUser') === user && Number(pm.environment.get('TokenExpiresAt')) > Date.now();",
  'if (admin && user && !fresh) {',
  "  pm.sendRequest({ url: admin + '/token', method: 'POST', header: { 'Content-Type': 'application/json' }, body: { mode: 'raw', raw: JSON.stringify({ user }) } }, (error, response) => {",
  "    if (error || response.code !== 200) return console.error('grex-harness: no token for ' + user + ' from ' + admin + '/token: ' + (error || response.text()));",
  '    const answer = response.json();',
  "    pm.environment.set('Token', answer.access_token);",
  "    pm.environment.set('TokenUser', user);",
  "    pm.environment.set('TokenExpiresAt', String(Date.now() + (answer.expires_in - 60) * 1000));",
  '  });',
  '}',
];

/**
 * A G-REX API: requests on `{{BaseURI…API}}` with `{{Token}}`, grouped in one
 * folder per example user (the user its examples are written for), each
 * request saying who that is.
 */
function wireGrex(collection: PostmanCollection, contract: Contract, users: readonly ExampleUser[]): PostmanCollection {
  const text = JSON.stringify(collection).replaceAll('{{baseUrl}}', `{{${contract.grex.postmanVariable}}}`);
  const wired = JSON.parse(text) as PostmanCollection;
  wired.variable = (wired.variable ?? []).filter((entry) => entry.key !== 'baseUrl');
  wired.auth = { type: 'bearer', bearer: [{ key: 'token', value: '{{Token}}', type: 'string' }] };
  wired.event = [script('prerequest', TOKEN_SCRIPT)];
  const operationOf = operationsByRequest(contract);
  const folders = new Map<string, { user: ExampleUser | null; tags: Map<string, PostmanItem> }>();
  for (const tag of wired.item) {
    for (const item of requestsOf([tag])) {
      const operation = operationOf(item.request);
      const user = exampleUserFor(operation, users);
      if (user === undefined) throw new Error(`${contract.name}: none of the example users may call ${String(operation.operationId)}`);
      const name = user?.username ?? ANONYMOUS_FOLDER;
      prepend(
        item.request,
        user
          ? `**Example user**: \`${describeUser(user)}\`. On the mock, the environment \`grex-local-${user.username}\` gets this user's token by itself; its examples assume a mock fresh from its fixtures (\`POST /__admin/reset\`).`
          : '**Example user**: none, anonymous (no token).',
      );
      let folder = folders.get(name);
      if (!folder) folders.set(name, (folder = { user, tags: new Map() }));
      let group = folder.tags.get(tag.name);
      if (!group) folder.tags.set(tag.name, (group = { ...tag, item: [] }));
      group.item?.push(item);
    }
  }
  wired.item = [...folders.entries()].map(([name, { user, tags }]) => ({
    name,
    description: user
      ? `Requests whose examples are written for ${describeUser(user)} on the mock's default fixtures. Run them with the environment grex-local-${name} (its token comes from the mock's /__admin/token). On DEMO or PROD, sign in as a user holding one of the roles each request's Permission table lists and set Token.`
      : 'Anonymous requests: no token.',
    item: [...tags.values()],
  }));
  return wired;
}

/** B2C request values that the manual's B2C token environments (App. 2 and 5) hold. */
const B2C_VALUES: Record<string, string> = {
  client_id: '{{ClientId}}',
  redirect_uri: '{{ReplyUrl}}',
  post_logout_redirect_uri: '{{ReplyUrl}}',
  scope: 'https://{{B2CDirectoryName}}.onmicrosoft.com/{{AppId}}/user_impersonation openid offline_access',
  refresh_token: '{{RefreshToken}}',
  id_token_hint: '{{IdToken}}',
  p: '{{SignInPolicyId}}',
  policy: '{{SignInPolicyId}}',
  tx: '{{B2CTransaction}}',
};

/** The sign-in page's hidden `tx`, for the form post that follows it. */
const KEEP_TRANSACTION = [
  'const tx = /name="tx" value="([^"]+)"/.exec(pm.response.text());',
  "if (tx) pm.collectionVariables.set('B2CTransaction', tx[1].replace(/&amp;/g, '&').replace(/&quot;/g, '\"').replace(/&#39;/g, \"'\"));",
];

/** On the mock, a refresh token of `Username` from the admin API when the environment has none (elsewhere: from your PKCE sign-in, manual 3.1). */
const REFRESH_TOKEN_SCRIPT = [
  "const admin = pm.environment.get('GrexHarnessAdmin');",
  "const user = pm.environment.get('Username');",
  "if (admin && user && !pm.environment.get('RefreshToken')) {",
  "  pm.sendRequest({ url: admin + '/refresh-token', method: 'POST', header: { 'Content-Type': 'application/json' }, body: { mode: 'raw', raw: JSON.stringify({ user, tenant: pm.environment.get('B2CDirectoryName') }) } }, (error, response) => {",
  "    if (error || response.code !== 200) return console.error('grex-harness: no refresh token for ' + user + ': ' + (error || response.text()));",
  "    pm.environment.set('RefreshToken', response.json().refresh_token);",
  '  });',
  '}',
];

/** The answer's tokens into the environment: the rotated refresh token replaces the old one (manual 3.3). */
export const STORE_TOKENS = [
  "pm.test('B2C answers new tokens', () => pm.response.to.have.status(200));",
  'const tokens = pm.response.json();',
  "pm.environment.set('Token', tokens.access_token);",
  "pm.environment.set('RefreshToken', tokens.refresh_token);",
  "if (tokens.id_token) pm.environment.set('IdToken', tokens.id_token);",
];

const B2C_EVENTS: Record<string, PostmanEvent[]> = {
  b2cAuthorize: [script('test', KEEP_TRANSACTION)],
  b2cRedeemToken: [script('prerequest', REFRESH_TOKEN_SCRIPT), script('test', STORE_TOKENS)],
  b2cRedeemTokenPolicyQuery: [script('prerequest', REFRESH_TOKEN_SCRIPT), script('test', STORE_TOKENS)],
};

/**
 * B2C: every request on `{{B2CHost}}` and the tenant, policy, client and
 * reply URL of a B2C token environment, so the one collection reaches the
 * mock, DEMO or PROD by the environment chosen and nothing else; redirects
 * (to the reply URL, a real B2C host) are not followed.
 */
function wireB2C(collection: PostmanCollection, contract: Contract): PostmanCollection {
  const text = JSON.stringify(collection).replaceAll('{{baseUrl}}', '{{B2CHost}}').replaceAll('{{tenant}}', '{{B2CDirectoryName}}');
  const wired = JSON.parse(text) as PostmanCollection;
  wired.variable = [{ key: 'B2CTransaction', value: '' }];
  const operationOf = operationsByRequest(contract);
  for (const item of requestsOf(wired.item)) {
    const { request } = item;
    const operation = operationOf(request);
    // The converter fills a form with every property of its schema; the contract's first example is the form a client sends.
    const example = formExample(contract, operation);
    if (example && request.body?.urlencoded) {
      const described = new Map(request.body.urlencoded.map((entry) => [entry.key, entry]));
      request.body.urlencoded = Object.entries(example).map(([key, value]) => ({ ...described.get(key), key, value: String(value) }));
    }
    for (const entry of [...(request.url.query ?? []), ...(request.url.variable ?? []), ...(request.body?.urlencoded ?? [])]) {
      const value = B2C_VALUES[entry.key];
      if (value) entry.value = value;
    }
    item.protocolProfileBehavior = { ...item.protocolProfileBehavior, followRedirects: false };
    const events = B2C_EVENTS[String(operation.operationId)];
    if (events) item.event = events;
  }
  return wired;
}

/** The first example of an operation's form body (`application/x-www-form-urlencoded`). */
function formExample(contract: Contract, operation: Operation): JsonObject | undefined {
  if (!operation.requestBody) return undefined;
  const media = (deref<JsonObject>(contract.doc, operation.requestBody).content as Record<string, JsonObject> | undefined)?.['application/x-www-form-urlencoded'];
  if (!media) return undefined;
  const first = 'example' in media ? media.example : Object.values((media.examples as Record<string, JsonObject>) ?? {}).map((example) => deref<JsonObject>(contract.doc, example).value)[0];
  return first && typeof first === 'object' && !Array.isArray(first) ? first : undefined;
}

export interface EnvironmentOptions {
  name: string;
  /** Where the six APIs are: the mock's origin, or G-REX's DEMO or PROD host. */
  apiOrigin: string;
  /** On the mock: the fixture user whose token the collections fetch, and the admin API that gives it. */
  user?: string;
  admin?: string;
}

/** A Postman environment in the shape of the manual's Appendix 1 (and 4): `Token` and the six base URIs. */
export function grexEnvironment(contracts: Contract[], options: EnvironmentOptions): object {
  const value = (key: string, text: string, secret = false) => ({ key, value: text, ...(secret ? { type: 'secret' } : {}), enabled: true });
  const values = [
    value('Token', '', true),
    ...contracts.filter((contract) => contract.grex.postmanVariable).map((contract) => value(String(contract.grex.postmanVariable), `${options.apiOrigin}/${contract.grex.api}`)),
    ...(options.user && options.admin ? [value('Username', options.user), value('GrexHarnessAdmin', options.admin)] : []),
  ];
  return { name: options.name, values, _postman_variable_scope: 'environment' };
}
