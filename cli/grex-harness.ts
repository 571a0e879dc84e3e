#!/usr/bin/env -S npx tsx
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { codeCatalogue, formatCatalogue } from '../contracts/lib/codes.js';
import { loadContracts } from '../contracts/lib/load.js';
import { docsPath } from '../mock/docs.js';
import { TENANTS } from '../mock/app.js';
import { b2cEnvironment, tokenCollection } from '../mock/b2c/postman.js';
import { fairUseSettings, faults as faultSettings, firewallSettings } from '../mock/admin.js';
import { DEFAULT_FAIR_USE } from '../mock/fairuse.js';
import { DEFAULT_FIREWALL } from '../mock/firewall.js';
import { startMock, type RunningMock } from '../mock/server.js';
import type { MockApp } from '../mock/app.js';
import { CERTIFY_HELP, GRADE_HELP, certifyCommand, gradeCommand } from '../grader/commands.js';
import { HOST_NAMES } from '../mock/tls.js';
import { ScenarioError } from '../mock/scenario.js';
import { StateFileError } from '../mock/state/store.js';
import { SCENARIOS } from '../fixtures/scenarios/index.js';
import { SNAPSHOT_HELP, snapshotCommand } from './snapshot.js';

const HELP = `grex-harness: a contract-driven G-REX mock and conformance harness

Usage: grex-harness <command> [options]

Commands:
  mock      Start the mock registry: the six G-REX APIs at their real paths,
            their documentation (Swagger UI, swagger.json), /__admin.
              --port N          port (default: $PORT or 4600; 0 picks a free one)
              --host H          address to listen on (default 127.0.0.1)
              --profile P       fixtures: default, or large (10k accounts,
                                100k bundles, 200 organisations)
              --seed N          fixture seed (default 20251105)
              --self-check      validate every response against its contract;
                                a mismatch answers 500 and is printed
              --journal-size N  exchanges kept in memory (default 10000)
              --journal-mb N    memory those may take, in MiB (default 64);
                                the oldest exchanges go first
              --journal-file F  also append every exchange to F (NDJSON)
              --max-body N      largest request body in bytes (default 1048576)
              --write-latency MS  answer writes to the six APIs after MS ms
                                (default 0), as a registry that takes time: a
                                client that sends a write before the previous
                                answer (manual 1.3.2) then shows in the journal
              --clock T         start the clock at T (ISO-8601) or "now"; by default
                                at the fixtures' epoch, 2026-11-02T08:00:00Z.
                                Use "now" when a client library checks token
                                times against the machine's clock
              --firewall P      the gateway firewall: realistic (default: Content-
                                Type and Content-Length only with a body), strict
                                (all five headers of manual 1.3.1 always), or off
              --firewall-header on|off  name the rule in x-grex-firewall-rule
                                (off answers exactly as G-REX: no hint)
              --fair-use on|off 100 requests a minute and 500 an hour per account
                                holder (manual 1.2); default on
              --config F        JSON {"firewall": {...}, "fairUse": {...}}: the
                                settings of GET|POST /__admin/firewall and
                                /__admin/fairuse (limits, blocks, overrides)
              --state F         keep the state (registry, B2C grants, the clock,
                                fair-use windows, firewall blocks) in F (SQLite),
                                and continue from F when it holds one: a write
                                is in F before it is answered. Without it the
                                state lives in memory only
              --scenario S      start from a named situation instead of the
                                bare fixtures (fixtures/scenarios/README.md):
${SCENARIOS.map((scenario) => `                                  ${scenario.name}`).join('\n')}
                                or from a snapshot file (S.json); with --state,
                                a file that already holds a state wins
              --tls             hosts mode: HTTPS with certificates for the real
                                host names (eexfrancedemoapi.grexel.com,
                                gcrfdemo.b2clogin.com, their PROD twins,
                                localhost) from a local authority it prints
              --fault JSON      test only, repeatable: make the mock wrong on
                                purpose, to show a suite or grader catches it:
                                {"kind":"set-field"|"remove-field","operationId"?,
                                "status"?,"field":"a.b","value"?}, {"kind":
                                "wrong-code","operationId"?,"when"?,"code"}, or
                                {"kind":"skip-rule","rule":"header-accept"}
                                (also GET|POST|DELETE /__admin/faults)
  codes     Print the response-code catalogue derived from the contracts.
              --format F   table (default), markdown, csv or json
  postman   Export each contract as a Postman collection wired to the manual's
            environment variables ({{BaseURI...API}}, {{Token}}), a Postman
            environment for the local mock, the B2C token environments of both
            tenants (App. 2 and 5) and the token use cases (App. 3), defects fixed.
              --out DIR    output folder (default reports/postman)
              --base-url U base URL of the mock for the environment
                           (default http://127.0.0.1:4600)
  proxy     Sit between a client and G-REX: forward its calls, journal them as
            the mock does, check requests and the target's answers against the
            contracts (answers that disagree are contract drift), and hold back
            calls that would break fair use.
              --target T        demo, prod, or a URL serving both the APIs and
                                B2C (e.g. a mock standing in for DEMO); required
              --port N          port (default 4700; 0 picks a free one)
              --host H          address to listen on (default 127.0.0.1)
              --journal-file F  also append every exchange to F (NDJSON), tokens
                                and secrets redacted (claims kept)
              --journal-size N  exchanges kept in memory (default 10000)
              --drift-file F    write the drift report (JSON) to F on exit
              --fair-use on|off hold back calls past the limits (default on)
              --limits JSON     the windows, default
                                [{"requests":100,"windowSeconds":60},
                                 {"requests":500,"windowSeconds":3600}]
              --max-wait S      longest hold-back in seconds (default 120); past
                                it the proxy answers 429 (x-grex-proxy: held)
              --timeout S       upstream time limit in seconds (default 30): 504
            GET /__proxy/journal (?format=har), /__proxy/drift, /__proxy/health.
${SNAPSHOT_HELP}${CERTIFY_HELP}${GRADE_HELP}  help      Show this text.
`;

async function main(argv: string[]): Promise<number> {
  const [command = 'help', ...rest] = argv;
  switch (command) {
    case 'mock':
      return mock(rest);
    case 'codes':
      return codes(rest);
    case 'postman':
      return postman(rest);
    case 'snapshot':
      return snapshotCommand(rest);
    case 'certify':
      return certifyCommand(rest);
    case 'grade':
      return gradeCommand(rest);
    case 'proxy':
      return (await import('../grader/proxy-command.js')).proxyCommand(rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return 0;
    default:
      process.stderr.write(`grex-harness: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

/** A --config or --fault the mock refuses: said in one line, exit 2. */
class SettingsError extends Error {}

async function mock(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      profile: { type: 'string' },
      seed: { type: 'string' },
      'self-check': { type: 'boolean', default: false },
      'journal-size': { type: 'string', default: '10000' },
      'journal-mb': { type: 'string', default: '64' },
      'journal-file': { type: 'string' },
      'max-body': { type: 'string', default: '1048576' },
      'write-latency': { type: 'string', default: '0' },
      tls: { type: 'boolean', default: false },
      clock: { type: 'string' },
      firewall: { type: 'string', default: 'realistic' },
      'firewall-header': { type: 'string', default: 'on' },
      'fair-use': { type: 'string', default: 'on' },
      config: { type: 'string' },
      fault: { type: 'string', multiple: true },
      state: { type: 'string' },
      scenario: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const integer = (name: string, text: string | undefined, min: number, max: number): number | string => {
    const value = Number(text);
    return Number.isInteger(value) && value >= min && value <= max ? value : `grex-harness mock: --${name} must be an integer from ${min} to ${max}, got "${text}"\n`;
  };
  const checks = {
    port: integer('port', String(values.port ?? process.env.PORT ?? 4600), 0, 65535),
    seed: values.seed === undefined ? 0 : integer('seed', values.seed, 0, 2 ** 31 - 1),
    journal: integer('journal-size', values['journal-size'], 0, 10_000_000),
    journalMb: integer('journal-mb', values['journal-mb'], 1, 4096),
    writeLatency: integer('write-latency', values['write-latency'], 0, 60_000),
    body: integer('max-body', values['max-body'], 1, 1 << 30),
  };
  for (const check of Object.values(checks)) {
    if (typeof check === 'string') {
      process.stderr.write(check);
      return 2;
    }
  }
  if (values.profile !== undefined && values.profile !== 'default' && values.profile !== 'large') {
    process.stderr.write(`grex-harness mock: --profile must be default or large, got "${values.profile}"\n`);
    return 2;
  }
  const clockStart = values.clock === undefined ? undefined : values.clock === 'now' ? Date.now() : /^\d{4}-\d{2}-\d{2}T/.test(values.clock) ? Date.parse(values.clock) : Number.NaN;
  if (clockStart !== undefined && Number.isNaN(clockStart)) {
    process.stderr.write(`grex-harness mock: --clock must be "now" or an ISO-8601 instant such as 2026-11-02T08:00:00Z, got "${values.clock}"\n`);
    return 2;
  }
  const choice = (name: string, value: string | undefined, allowed: string[]): string | null => {
    if (value !== undefined && allowed.includes(value)) return value;
    process.stderr.write(`grex-harness mock: --${name} must be ${allowed.join(' or ')}, got "${value}"\n`);
    return null;
  };
  const firewall = choice('firewall', values.firewall, ['strict', 'realistic', 'off']);
  const firewallHeader = choice('firewall-header', values['firewall-header'], ['on', 'off']);
  const fairUse = choice('fair-use', values['fair-use'], ['on', 'off']);
  if (!firewall || !firewallHeader || !fairUse) return 2;
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
    ...(values.fault ?? []).map((text): [Apply, unknown, string] => [faultSettings, text, `--fault ${text}`]),
  ];
  const configure = (app: MockApp): void => {
    for (const [apply, part, source] of parts) {
      if (part === undefined) continue;
      const outcome = apply(app, Buffer.from(typeof part === 'string' ? part : JSON.stringify(part)));
      if (outcome.status !== 200) throw new SettingsError(`${source}: ${(outcome.body as { error: string }).error}`);
    }
  };
  const started = performance.now();
  let running: RunningMock;
  try {
    running = await startMock({
      clockStart,
      port: checks.port as number,
      host: values.host ?? '127.0.0.1',
      profile: values.profile as 'default' | 'large' | undefined,
      seed: values.seed === undefined ? undefined : (checks.seed as number),
      selfCheck: values['self-check'] ?? false,
      journalCapacity: checks.journal as number,
      writeLatencyMs: checks.writeLatency as number,
      journalMaxBytes: (checks.journalMb as number) * 1024 * 1024,
      journalSpillFile: values['journal-file'],
      maxBodyBytes: checks.body as number,
      tls: values.tls ?? false,
      firewall: { ...DEFAULT_FIREWALL, enabled: firewall !== 'off', profile: firewall === 'strict' ? 'strict' : 'realistic', diagnostics: firewallHeader === 'on' },
      fairUse: { ...DEFAULT_FAIR_USE, enabled: fairUse === 'on' },
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
  const lines = [`grex-harness mock listening on ${running.url} (ready in ${Math.round(performance.now() - started)} ms)`, '', 'Postman environment (manual Appendix 1/4 variable names):'];
  for (const contract of app.contracts.contracts) {
    if (contract.grex.postmanVariable) lines.push(`  ${contract.grex.postmanVariable.padEnd(31)} ${running.url}/${contract.grex.api}`);
  }
  lines.push('', 'Documentation:', `  ${running.url}/__docs/`);
  for (const contract of app.contracts.contracts) lines.push(`  ${running.url}${docsPath(contract)}`);
  const users = [...app.registry.users.values()].filter((user) => user.status === 'Active');
  lines.push(
    '',
    `Registry: ${app.registry.organizations.size} organisations, ${app.registry.accounts.size} accounts, ${app.registry.bundles.size} bundles; clock at ${app.clock.iso()} (${app.config.profile} profile).`,
    ...running.notes,
    `Firewall: ${app.firewall.config.enabled ? `${app.firewall.config.profile}${app.firewall.config.diagnostics ? ', rule named in x-grex-firewall-rule' : ''}` : 'off'}; fair use: ${
      app.fairUse.config.enabled ? app.fairUse.config.limits.map((limit) => `${limit.requests} per ${limit.windowSeconds} s`).join(', ') : 'off'
    } (GET ${running.url}/__admin/firewall, /__admin/fairuse).`,
    ...(app.faults.active ? [`TEST-ONLY FAULTS ON: ${JSON.stringify(app.faults.all)} (DELETE ${running.url}/__admin/faults)`] : []),
    `Users (${users.length} active; all: GET ${running.url}/__admin/users), e.g.:`,
  );
  for (const user of users.slice(0, 4)) lines.push(`  ${user.username.padEnd(40)} ${user.roles.join(', ')}`);
  if (running.caFile) {
    lines.push(
      '',
      `Hosts mode (HTTPS): trust the certificate authority ${running.caFile}`,
      `and point the real names at this machine in the hosts file, e.g. "127.0.0.1 ${HOST_NAMES.join(' ')}"`,
      'then run on port 443 (--port 443) so that clients need no other change.',
    );
  }
  lines.push(
    '',
    'Sign in as the registry UI does (PKCE with MFA): ' + `${running.url}/`,
    '',
    'A token without a browser:',
    `  curl -s -X POST ${running.url}/__admin/token -H 'Content-Type: application/json' -d '{"user":"${users[0]?.username ?? 'ib-root'}"}'`,
    '',
    'Ready. Press Ctrl+C to stop.',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = (): void => {
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise<number>(() => undefined);
}

function codes(args: string[]): number {
  const { values } = parseArgs({ args, options: { format: { type: 'string', default: 'table' } } });
  const format = values.format as 'table' | 'markdown' | 'json' | 'csv';
  if (!['table', 'markdown', 'json', 'csv'].includes(format)) {
    process.stderr.write(`grex-harness codes: --format must be table, markdown, csv or json\n`);
    return 2;
  }
  process.stdout.write(formatCatalogue(codeCatalogue(loadContracts()), format));
  return 0;
}

async function postman(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { out: { type: 'string', default: 'reports/postman' }, 'base-url': { type: 'string', default: 'http://127.0.0.1:4600' } },
  });
  // Loaded here only: the converter is heavy, and `mock` starts faster without it.
  const { mockEnvironment, toPostman } = await import('../contracts/lib/postman.js');
  const out = resolve(values.out ?? 'reports/postman');
  mkdirSync(out, { recursive: true });
  const { contracts } = loadContracts();
  for (const contract of contracts) {
    const collection = await toPostman(contract);
    const file = join(out, `${contract.name}.postman_collection.json`);
    writeFileSync(file, `${JSON.stringify(collection, null, 2)}\n`);
    process.stdout.write(`${file}\n`);
  }
  const baseUrl = values['base-url'] ?? '';
  const files: [string, object][] = [
    ['grex-local.postman_environment.json', mockEnvironment(contracts, baseUrl)],
    ['grex-token-use-cases.postman_collection.json', tokenCollection()],
    ...TENANTS.map((tenant): [string, object] => [`grex-b2c-${tenant.name}.postman_environment.json`, b2cEnvironment(tenant, baseUrl)]),
  ];
  for (const [name, content] of files) {
    writeFileSync(join(out, name), `${JSON.stringify(content, null, 2)}\n`);
    process.stdout.write(`${join(out, name)}\n`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`grex-harness: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
