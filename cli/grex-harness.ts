#!/usr/bin/env -S npx tsx
import { readFileSync } from 'node:fs';
import { codeCatalogue, formatCatalogue } from '../contracts/lib/codes.js';
import { loadContracts } from '../contracts/lib/load.js';
import { VERSION } from '../contracts/lib/release.js';
import { docsPath } from '../mock/docs.js';
import { TENANTS } from '../mock/app.js';
import { fairUseSettings, faults as faultSettings, firewallSettings } from '../mock/admin.js';
import { DEFAULT_FAIR_USE } from '../mock/fairuse.js';
import { DEFAULT_FIREWALL } from '../mock/firewall.js';
import { startMock, type RunningMock } from '../mock/server.js';
import type { MockApp } from '../mock/app.js';
import { certifyCommand, gradeCommand } from '../grader/commands.js';
import { proxyCommand } from '../grader/proxy-command.js';
import { HOST_NAMES } from '../mock/tls.js';
import { b2cHost } from '../mock/identity.js';
import { loadServedContracts, servedSummary } from '../contracts/lib/served.js';
import { PulledError } from '../contracts/lib/pulled.js';
import { ScenarioError } from '../mock/scenario.js';
import { StateFileError } from '../mock/state/store.js';
import { SCENARIOS } from '../fixtures/scenarios/index.js';
import { contractsDiffCommand, contractsPullCommand } from './contracts.js';
import { postmanCommand } from './postman.js';
import { snapshotLoadCommand, snapshotSaveCommand } from './snapshot.js';
import { command, commandHelp, flag, listing, logFlag, runCommand, type Command, type Values } from './command.js';
import { JsonLog, STOP_GRACE_MS, bannerStream, stopSignal } from './log.js';

const MOCK_FLAGS = {
  port: flag.integer('N', 'port (default: $PORT or 4600; 0 picks a free one)', { min: 0, max: 65535, fallback: 4600, env: 'PORT' }),
  host: flag.text('H', 'address to listen on (default: $GREX_HOST or 127.0.0.1;\n0.0.0.0 for every interface, as the container does)', '127.0.0.1', 'GREX_HOST'),
  profile: flag.choice('P', 'fixtures: default, or large (10k accounts,\n100k bundles, 200 organisations)', ['default', 'large'], 'default'),
  seed: flag.integer('N', 'fixture seed (default 20251105)', { min: 0, max: 2 ** 31 - 1 }),
  'self-check': flag.switch('validate every response against its contract;\na mismatch answers 500 and is printed'),
  'journal-size': flag.integer('N', 'exchanges kept in memory (default 10000)', { min: 0, max: 10_000_000, fallback: 10_000 }),
  'journal-mb': flag.integer('N', 'memory those may take, in MiB (default 64);\nthe oldest exchanges go first', { min: 1, max: 4096, fallback: 64 }),
  'journal-file': flag.text('F', 'also append every exchange to F (NDJSON); flushed\nwhen the mock stops on SIGINT or SIGTERM'),
  'max-body': flag.integer('N', 'largest request body in bytes (default 1048576)', { min: 1, max: 1 << 30, fallback: 1_048_576 }),
  'write-latency': flag.integer(
    'MS',
    'answer writes to the six APIs after MS ms\n(default 0), as a registry that takes time: a\nclient that sends a write before the previous\nanswer (manual 1.3.2) then shows in the journal',
    { min: 0, max: 60_000, fallback: 0 },
  ),
  clock: flag.text(
    'T',
    'start the clock at T (ISO-8601) or "now"; by default\nat the fixtures\' epoch, 2026-11-02T08:00:00Z.\nUse "now" when a client library checks token\ntimes against the machine\'s clock. With --state\non a file that holds a state, the clock moves\nto T (what is due by then runs); without\n--clock it continues from the file',
  ),
  firewall: flag.choice(
    'P',
    'the gateway firewall: realistic (default: Content-\nType and Content-Length only with a body), strict\n(all five headers of manual 1.3.1 always), or off',
    ['realistic', 'strict', 'off'],
    'realistic',
  ),
  'firewall-header': flag.onOff('name the rule in x-grex-firewall-rule\n(off answers exactly as G-REX: no hint)', true),
  'fair-use': flag.onOff('100 requests a minute and 500 an hour per account\nholder (manual 1.2); default on', true),
  config: flag.text('F', 'JSON {"firewall": {...}, "fairUse": {...}}: the\nsettings of GET|POST /__admin/firewall and\n/__admin/fairuse (limits, blocks, overrides)'),
  tls: flag.switch(
    "hosts mode: HTTPS with certificates for the real\nhost names (eexfrancedemoapi.grexel.com,\ngcrfdemo.b2clogin.com, their PROD twins,\nlocalhost) from a local authority it prints;\nthe banner gives the base URIs at those names.\nEach API host name takes its own tenant's\ntokens only (DEMO gcrfdemo, PROD gcrfr)",
  ),
  cors: flag.onOff('CORS for browser clients: preflights answered,\nAccess-Control-Allow-* on every answer (default\non; off answers as G-REX might: unknown)', true),
  contracts: flag.text(
    'DIR',
    "serve G-REX's own documents (grex-harness contracts\npull, or swagger.json files saved by hand) instead\nof the reconstructed contracts, API by API: their\noperations that the contracts have keep the mock's\nhandlers (renamed fields mapped both ways), the\nothers answer from their examples; the banner\nlists which is which",
  ),
  state: flag.text(
    'F',
    'keep the state (registry, B2C grants, the clock,\nfair-use windows, firewall blocks) in F (SQLite,\nbetter-sqlite3), and continue from F when it holds\none: a write is in F before it is answered.\nWithout it the state lives in memory only',
  ),
  scenario: flag.text(
    'S',
    `start from a named situation instead of the bare\nfixtures (fixtures/scenarios/README.md):\n${SCENARIOS.map((scenario) => `  ${scenario.name}`).join('\n')}\nor from a snapshot file (S.json); with --state,\na file that already holds a state wins`,
  ),
  log: logFlag,
  fault: flag.repeated(
    'JSON',
    'test only, repeatable: make the mock wrong on\npurpose, to show a suite or grader catches it.\nBends the answer of one stage ("stage": firewall,\nfairuse, route, auth, validate, domain (default)\nor docs; "operationId"?, "when"?: the code the\nstage decided, "status"?): {"kind":"set-field",\n"field":"a.b","value"}, {"kind":"remove-field",\n"field"}, {"kind":"wrong-code","code"},\n{"kind":"set-status","value":503}, {"kind":\n"set-header","header","value"}, {"kind":\n"remove-header","header"}; or lets a firewall\nrule through: {"kind":"skip-rule","rule":\n"header-accept"} ("blocked": blocks do not hold)\n(also GET|POST|DELETE /__admin/faults)',
  ),
};

const mockCommand = command({
  name: 'mock',
  summary: 'Start the mock registry: the six G-REX APIs at their real paths,\ntheir documentation (Swagger UI, swagger.json), /__admin.',
  flags: MOCK_FLAGS,
  exits: [
    [0, 'stopped by SIGINT or SIGTERM (answers in flight finished, journal file\nflushed, state file closed)'],
    [1, 'an unexpected error (the port is taken, ...)'],
    [2, 'usage error: an unknown flag, a bad value or settings file, a state\nfile it cannot use, an unknown scenario (one line on stderr)'],
  ],
  run: (values) => mock(values),
});

const codesCommand = command({
  name: 'codes',
  summary: 'Print the response-code catalogue derived from the contracts.',
  flags: { format: flag.choice('F', 'table (default), markdown, csv or json', ['table', 'markdown', 'csv', 'json'], 'table') },
  exits: [
    [0, 'printed'],
    [2, 'usage error'],
  ],
  run: ({ format }) => {
    process.stdout.write(formatCatalogue(codeCatalogue(loadContracts()), format));
    return 0;
  },
});

/** Every command, in the order `grex-harness help` lists them. A new command is one declaration added here. */
const COMMANDS: Command[] = [mockCommand, codesCommand, postmanCommand, proxyCommand, contractsPullCommand, contractsDiffCommand, snapshotSaveCommand, snapshotLoadCommand, certifyCommand, gradeCommand];

const HELP = `grex-harness ${VERSION}: a contract-driven G-REX mock and conformance harness

Usage: grex-harness <command> [options]

Commands:
${COMMANDS.map(listing).join('')}  help      Show this text; grex-harness help <command> (or <command> --help):
            one command's flags and exit codes.
  --version Print the version (of the tool and of the contracts it serves).
`;

async function main(argv: string[]): Promise<number> {
  const [name = 'help', ...rest] = argv;
  if (name === '--version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    const topic = COMMANDS.find((candidate) => candidate.name === rest.join(' '));
    const group = COMMANDS.filter((candidate) => candidate.name.startsWith(`${rest[0]} `));
    process.stdout.write(topic ? commandHelp(topic) : group.length ? group.map(commandHelp).join('\n') : HELP);
    return 0;
  }
  // A command of two words (`contracts pull`): the first names the group, the second the command.
  const group = COMMANDS.filter((candidate) => candidate.name.startsWith(`${name} `));
  if (group.length) {
    const [sub, ...after] = rest;
    const chosen = group.find((candidate) => candidate.name === `${name} ${sub}`);
    if (chosen) return runCommand(chosen, after);
    const names = group.map((candidate) => candidate.name.slice(name.length + 1)).join(' or ');
    if (sub === '--help' || sub === '-h') {
      process.stdout.write(group.map(commandHelp).join('\n'));
      return 0;
    }
    process.stderr.write(sub === undefined ? `grex-harness ${name}: ${names}?\n\n${group.map(listing).join('')}` : `grex-harness ${name}: unknown subcommand "${sub}": ${names} (grex-harness ${name} --help)\n`);
    return 2;
  }
  const chosen = COMMANDS.find((candidate) => candidate.name === name);
  if (!chosen) {
    process.stderr.write(`grex-harness: unknown command "${name}"; grex-harness help lists the commands (${COMMANDS.map((candidate) => candidate.name).join(', ')})\n`);
    return 2;
  }
  return runCommand(chosen, rest);
}

/** A --config or --fault the mock refuses: said in one line, exit 2. */
class SettingsError extends Error {}

async function mock(values: Values<typeof MOCK_FLAGS>): Promise<number> {
  const clockStart = values.clock === undefined ? undefined : values.clock === 'now' ? Date.now() : /^\d{4}-\d{2}-\d{2}T/.test(values.clock) ? Date.parse(values.clock) : Number.NaN;
  if (clockStart !== undefined && Number.isNaN(clockStart)) {
    process.stderr.write(`grex-harness mock: --clock must be "now" or an ISO-8601 instant such as 2026-11-02T08:00:00Z, got "${values.clock}"\n`);
    return 2;
  }
  // `--state "$STATE_FILE"` with the variable unset would otherwise start a mock in memory, which forgets on a restart.
  for (const flag of ['state', 'scenario'] as const) {
    if (values[flag] === '') {
      process.stderr.write(`grex-harness mock: --${flag} needs a value, got an empty one\n`);
      return 2;
    }
  }
  let settings: { firewall?: object; fairUse?: object } = {};
  if (values.config) {
    try {
      settings = JSON.parse(readFileSync(values.config, 'utf8')) as typeof settings;
    } catch (error) {
      process.stderr.write(`grex-harness mock: --config ${values.config}: ${(error as Error).message}\n`);
      return 2;
    }
  }
  // A settings file refines the flags, checked as the admin API checks the same settings; so are faults.
  // They apply before a scenario runs, which may depend on them (the fair-use edge fills the windows configured).
  type Apply = (app: MockApp, body: Buffer) => { status: number; body?: unknown };
  const parts: [Apply, unknown, string][] = [
    [firewallSettings, settings.firewall, `--config ${values.config}`],
    [fairUseSettings, settings.fairUse, `--config ${values.config}`],
    ...values.fault.map((text): [Apply, unknown, string] => [faultSettings, text, `--fault ${text}`]),
  ];
  const configure = (app: MockApp): void => {
    for (const [apply, part, source] of parts) {
      if (part === undefined) continue;
      const outcome = apply(app, Buffer.from(typeof part === 'string' ? part : JSON.stringify(part)));
      if (outcome.status !== 200) throw new SettingsError(`${source}: ${(outcome.body as { error: string }).error}`);
    }
  };
  const started = performance.now();
  let contracts;
  try {
    contracts = values.contracts === undefined ? undefined : await loadServedContracts(values.contracts);
  } catch (error) {
    if (!(error instanceof PulledError)) throw error;
    process.stderr.write(`grex-harness mock: --contracts ${values.contracts}: ${error.message}\n`);
    return 2;
  }
  let running: RunningMock;
  try {
    running = await startMock({
      contracts,
      clockStart,
      port: values.port,
      host: values.host,
      profile: values.profile,
      seed: values.seed,
      selfCheck: values['self-check'],
      journalCapacity: values['journal-size'],
      writeLatencyMs: values['write-latency'],
      journalMaxBytes: values['journal-mb'] * 1024 * 1024,
      journalSpillFile: values['journal-file'],
      maxBodyBytes: values['max-body'],
      tls: values.tls,
      firewall: { ...DEFAULT_FIREWALL, enabled: values.firewall !== 'off', profile: values.firewall === 'strict' ? 'strict' : 'realistic', diagnostics: values['firewall-header'] },
      fairUse: { ...DEFAULT_FAIR_USE, enabled: values['fair-use'] },
      cors: values.cors,
      configure,
      stateFile: values.state,
      scenario: values.scenario,
    });
  } catch (error) {
    if (!(error instanceof StateFileError || error instanceof ScenarioError || error instanceof SettingsError)) throw error;
    process.stderr.write(`grex-harness mock: ${error.message}\n`);
    return 2;
  }
  const { app } = running;
  // Hosts mode: clients reach the mock at the real host names (a hosts entry), so that is what the banner gives them.
  // URL leaves out the scheme's default port: empty on 443.
  const port = new URL(running.url).port;
  const at = (host: string): string => (running.caFile ? `https://${host}${port ? `:${port}` : ''}` : running.url);
  const demo = TENANTS.find((tenant) => tenant.environment === 'DEMO') as (typeof TENANTS)[number];
  const home = at(demo.apiHost);
  const readyMs = Math.round(performance.now() - started);
  const log = values.log === 'json' ? new JsonLog('mock') : undefined;
  const lines = [`grex-harness mock listening on ${running.url} (ready in ${readyMs} ms)`];
  for (const tenant of running.caFile ? TENANTS : [demo]) {
    const which = running.caFile ? ` for ${tenant.environment}, ${tenant.apiHost},` : '';
    lines.push('', `Postman environment${which} (manual Appendix 1/4 variable names):`);
    for (const contract of app.contracts.contracts) {
      if (contract.grex.postmanVariable) lines.push(`  ${contract.grex.postmanVariable.padEnd(31)} ${at(tenant.apiHost)}/${contract.grex.api}`);
    }
  }
  lines.push('', `B2C token environments (manual Appendix 2/5 variable names; both tenants${running.caFile ? ' at their real hosts' : ' on this host'}):`);
  for (const tenant of TENANTS) {
    lines.push(`  ${tenant.environment.padEnd(5)} B2CHost ${at(b2cHost(tenant))}  B2CDirectoryName ${tenant.name}  SignInPolicyId ${tenant.policy}`);
    lines.push(`        ClientId ${tenant.clientId}  AppId ${tenant.appId}  ReplyUrl ${tenant.replyUrl}`);
  }
  lines.push(
    `  DEMO's AppId is the mock's stand-in: the manual's Appendix 5 gives "GCR", which is not an application id.`,
    '  Scope: https://{B2CDirectoryName}.onmicrosoft.com/{AppId}/user_impersonation openid offline_access',
  );
  lines.push('', 'Documentation:', `  ${home}/__docs/`);
  for (const contract of app.contracts.contracts) lines.push(`  ${home}${docsPath(contract)}`);
  const users = [...app.registry.users.values()].filter((user) => user.status === 'Active');
  lines.push(
    '',
    `Registry: ${app.registry.organizations.size} organisations, ${app.registry.accounts.size} accounts, ${app.registry.bundles.size} bundles; clock at ${app.clock.iso()} (${app.config.profile} profile).`,
    ...running.notes,
    `Firewall: ${app.firewall.config.enabled ? `${app.firewall.config.profile}${app.firewall.config.diagnostics ? ', rule named in x-grex-firewall-rule' : ''}` : 'off'}; fair use: ${
      app.fairUse.config.enabled ? app.fairUse.config.limits.map((limit) => `${limit.requests} per ${limit.windowSeconds} s`).join(', ') : 'off'
    } (GET ${running.url}/__admin/firewall, /__admin/fairuse); CORS: ${values.cors ? 'any origin' : 'off'}.`,
    ...servedSummary(app.contracts),
    ...(app.faults.active ? [`TEST-ONLY FAULTS ON: ${JSON.stringify(app.faults.all)} (DELETE ${running.url}/__admin/faults)`] : []),
    `Contracts: release ${VERSION}, the info.version of every swagger.json.`,
    `Users (${users.length} active; all: GET ${running.url}/__admin/users), e.g.:`,
  );
  for (const user of users.slice(0, 4)) lines.push(`  ${user.username.padEnd(40)} ${user.roles.join(', ')}`);
  if (running.caFile) {
    lines.push(
      '',
      `Hosts mode (HTTPS): trust the certificate authority ${running.caFile}`,
      `and point the real names at this machine in the hosts file: "127.0.0.1 ${HOST_NAMES.filter((name) => name !== 'localhost').join(' ')}".`,
      ...(port ? ['Run on port 443 (--port 443) so that clients need no other change than the hosts entry.'] : []),
      'On these names each API host takes its own tenant\'s tokens only (DEMO gcrfdemo, PROD gcrfr), as G-REX does.',
    );
  }
  lines.push(
    '',
    'Sign in as the registry UI does (PKCE with MFA): ' + `${home}/`,
    '',
    'A token without a browser:',
    `  curl -s -X POST ${running.url}/__admin/token -H 'Content-Type: application/json' -d '{"user":"${users[0]?.username ?? 'ib-root'}"}'`,
    '',
    'Ready. Press Ctrl+C to stop.',
  );
  bannerStream(log).write(`${lines.join('\n')}\n`);
  if (log) {
    log.write('start', {
      version: VERSION,
      url: running.url,
      readyMs,
      profile: values.profile,
      clock: app.clock.iso(),
      firewall: app.firewall.config,
      fairUse: app.fairUse.config,
      journalFile: values['journal-file'],
      stateFile: values.state,
      scenario: values.scenario,
      baseUris: Object.fromEntries(app.contracts.contracts.flatMap((contract) => (contract.grex.postmanVariable ? [[contract.grex.postmanVariable, `${running.url}/${contract.grex.api}`]] : []))),
    });
    app.journal.observe(log.exchange);
  }
  const signal = await stopSignal();
  await running.close(STOP_GRACE_MS);
  await log?.shutdown({ signal, journalFile: values['journal-file'] });
  return 0;
}

// `grex-harness codes | head`: a reader that stops early ends the command, quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`grex-harness: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
