import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { describeUser, exampleUsers } from '../contracts/lib/examples.js';
import { loadContracts } from '../contracts/lib/load.js';
import { ANONYMOUS_FOLDER, grexEnvironment, toPostman } from '../contracts/lib/postman.js';
import { TENANTS } from '../mock/app.js';
import { b2cEnvironment, tokenCollection } from '../mock/b2c/postman.js';
import { command, flag, type Values } from './command.js';

function fail(message: string): number {
  process.stderr.write(`grex-harness postman: ${message}\n`);
  return 2;
}

/** `http(s)://host[:port]` (a trailing slash allowed), as the URL parser reads it; undefined for anything else (a path, a query, credentials, a port over 65535, spaces). */
function origin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const bare = url.pathname === '/' && !text.includes('?') && !text.includes('#') && !url.username && !url.password;
  return (url.protocol === 'http:' || url.protocol === 'https:') && bare ? url.origin : undefined;
}

const POSTMAN_FLAGS = {
  out: flag.text('DIR', 'output folder (default reports/postman)', 'reports/postman'),
  'base-url': flag.text('U', 'the mock\'s origin for the environments (default\nhttp://127.0.0.1:$PORT, or :4600)'),
  target: flag.choice('T', "mock (default): environments for the mock, one per\nexample user; demo or prod: G-REX's DEMO or PROD\nhosts and B2C tenant instead (only when asked for\nby name)", ['mock', 'demo', 'prod'], 'mock'),
};

export const postmanCommand = command({
  name: 'postman',
  summary:
    "Export each contract as a Postman collection wired to the manual's\nenvironment variables ({{BaseURI...API}}, {{Token}}), with a folder per\nexample user, the environments to run them (the mock's by default),\nthe B2C token environments (App. 2 and 5) and the token use cases\n(App. 3), defects fixed; prints how to run them with newman.",
  flags: POSTMAN_FLAGS,
  exits: [
    [0, 'written (each file printed, then the newman commands)'],
    [1, 'a file could not be written'],
    [2, 'usage error'],
  ],
  run: (values) => postman(values),
});

async function postman(values: Values<typeof POSTMAN_FLAGS>): Promise<number> {
  const target = values.target;
  if (target !== 'mock' && values['base-url'] !== undefined) return fail('--base-url is the mock\'s address: give it with --target mock (the default), not with --target demo or prod');
  const port = process.env.PORT || '4600';
  if (values['base-url'] === undefined && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    return fail(`PORT (the mock's port when --base-url is absent) must be an integer from 1 to 65535, got "${port}"`);
  }
  const base = origin(values['base-url'] ?? `http://127.0.0.1:${port}`);
  if (base === undefined) return fail(`--base-url must be an origin such as http://127.0.0.1:4600, got "${values['base-url']}"`);

  // Loaded here only: the proxy (and its HTTP client) is not needed to start the mock.
  const { TARGETS } = await import('../grader/proxy.js');
  const out = resolve(values.out);
  mkdirSync(out, { recursive: true });
  const shown = (file: string): string => {
    const path = relative(process.cwd(), join(out, file));
    return path.startsWith(`..${sep}`) || path === '..' ? join(out, file) : path;
  };
  const set = loadContracts();
  const users = exampleUsers(set);
  const files: { name: string; what: string; content: object }[] = [];
  const folders = new Map<string, string[]>();
  for (const contract of set.contracts) {
    const collection = await toPostman(contract, users);
    const name = `${contract.name}.postman_collection.json`;
    folders.set(name, contract.grex.postmanVariable ? collection.item.map((folder) => folder.name) : []);
    files.push({ name, what: `${contract.doc.info.title} ${contract.grex.version}`, content: collection });
  }
  const used = users.filter((user) => [...folders.values()].some((names) => names.includes(user.username)));
  const admin = `${base}/__admin`;
  if (target === 'mock') {
    for (const user of used) {
      files.push({
        name: `grex-local-${user.username}.postman_environment.json`,
        what: `the mock as ${describeUser(user)}: its token comes from ${admin}/token`,
        content: grexEnvironment(set.contracts, { name: `G-REX LOCAL grex-harness mock, as ${user.username}`, apiOrigin: base, user: user.username, admin }),
      });
    }
    files.push({ name: 'grex-local.postman_environment.json', what: 'the mock, Token set by hand (manual Appendix 1)', content: grexEnvironment(set.contracts, { name: 'G-REX LOCAL grex-harness mock', apiOrigin: base }) });
  } else {
    const host = TARGETS[target].api;
    files.push({ name: `grex-${target}.postman_environment.json`, what: `G-REX ${target.toUpperCase()} at ${host}, Token set by hand (manual Appendix 4)`, content: grexEnvironment(set.contracts, { name: `G-REX ${target.toUpperCase()}`, apiOrigin: host }) });
  }
  const b2cUser = 'eolien-trader';
  const tenants = target === 'mock' ? TENANTS : TENANTS.filter((tenant) => tenant.name === (target === 'demo' ? 'gcrfdemo' : 'gcrfr'));
  for (const tenant of tenants) {
    const host = target === 'mock' ? base : TARGETS[target].b2c;
    files.push({
      name: `grex-b2c-${tenant.name}.postman_environment.json`,
      what: `B2C token environment, tenant ${tenant.name}, at ${host}${target === 'mock' ? ` (a refresh token of ${b2cUser} from ${admin}/refresh-token when RefreshToken is empty)` : ''}`,
      // DEMO's API application id is not published (the manual's "GCR" is not one): the mock's stand-in is no use there.
      content: b2cEnvironment(target === 'demo' ? { ...tenant, appId: '' } : tenant, host, target === 'mock' ? { admin, user: b2cUser } : undefined),
    });
  }
  files.push({ name: 'grex-token-use-cases.postman_collection.json', what: "the manual's token use cases (Appendix 3), defects fixed", content: tokenCollection() });

  const width = Math.max(...files.map((file) => shown(file.name).length));
  const lines = [`grex-harness postman: ${target === 'mock' ? `for the mock at ${base}` : `for G-REX ${target.toUpperCase()}`}, wrote:`];
  for (const file of files) {
    writeFileSync(join(out, file.name), `${JSON.stringify(file.content, null, 2)}\n`);
    lines.push(`  ${shown(file.name).padEnd(width)}  ${file.what}`);
  }
  if (target === 'mock') {
    lines.push(
      '',
      `Run them with newman against the mock (npm start, on ${base}). The examples are written for the mock's`,
      'default fixtures and some of them write, so start from a fresh mock (or reset it) and run them once, in this order:',
      `  curl -s -X POST ${admin}/reset`,
    );
    for (const [name, names] of folders) {
      if (names.length === 0) {
        lines.push(`  npx newman run ${shown(name)} -e ${shown('grex-b2c-gcrfdemo.postman_environment.json')}`);
        continue;
      }
      for (const folder of names) {
        const environment = folder === ANONYMOUS_FOLDER ? 'grex-local.postman_environment.json' : `grex-local-${folder}.postman_environment.json`;
        lines.push(`  npx newman run ${shown(name)} --folder ${folder} -e ${shown(environment)}`);
      }
    }
  } else {
    lines.push('', `Import a collection and grex-${target}.postman_environment.json into Postman, sign in (the token use cases, manual chapter 3) and set Token.`);
    if (target === 'demo') lines.push("Set AppId in grex-b2c-gcrfdemo.postman_environment.json first: DEMO's API application id is not published (the manual's \"GCR\" is not one).");
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
