import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { loadContracts, type ContractSet } from '../contracts/lib/load.js';
import { DEFAULT_SEED } from '../fixtures/generate.js';
import { DEFAULT_CONFIG, MockApp, type MockConfig } from './app.js';
import { handlers as domainHandlers } from './handlers/index.js';
import { closeServer } from './close-server.js';
import { answerOversizedHeads, HEAD_LIMIT_BYTES } from './head-limit.js';
import { HOST_NAMES, hostsModeCertificates } from './tls.js';
import type { Handler } from './handlers/kit.js';
import { applyScenario } from './scenario.js';
import { StateFileError, StateStore, type StateOrigin } from './state/store.js';

export interface MockOptions extends Partial<MockConfig> {
  port: number;
  host: string;
  contracts?: ContractSet;
  /** Replace or add domain handlers by operationId (extensions; tests that need a misbehaving handler). */
  handlers?: Record<string, Handler>;
  /** Hosts mode: HTTPS with certificates for the real host names, from the mock's own authority. */
  tls?: boolean;
  /** Keep the state in this file (SQLite), and continue from it when it holds one already. */
  stateFile?: string;
  /** Start from a named scenario (fixtures/scenarios/) or a snapshot file (`.json`); a state file that holds a state wins. */
  scenario?: string;
  /** Settings applied to the new mock before a scenario runs and before it listens (--config, --fault); throws to stop the start. */
  configure?: (app: MockApp) => void;
  /** The state file can no longer be written: by default the process stops (exit 1) after answering what was held. */
  onStateFailure?: (error: Error) => void;
}

export interface RunningMock {
  server: Server;
  app: MockApp;
  url: string;
  /** In hosts mode, the certificate authority a client must trust. */
  caFile?: string;
  /** Where the state came from (a state file, a scenario), one line each, for the banner. */
  notes: string[];
  /** Stops the mock; `graceMs` lets answers under way finish first (default: none, closed at once). The state file is closed last. */
  close(graceMs?: number): Promise<void>;
}

/** Starts the mock: one process, one port, the six APIs, their documentation, B2C's paths and /__admin. */
export async function startMock(options: MockOptions): Promise<RunningMock> {
  const { port, host, contracts, handlers, tls, stateFile, scenario, onStateFailure, configure, ...config } = options;
  const opened = stateFile ? StateStore.open(stateFile) : undefined;
  let app: MockApp;
  const notes: string[] = [];
  try {
    const loaded = opened?.loaded;
    if (loaded) sameOrigin(stateFile as string, loaded.origin, config);
    const settings: MockConfig = { ...DEFAULT_CONFIG, ...config, profile: loaded?.origin.profile ?? config.profile ?? DEFAULT_CONFIG.profile, seed: loaded?.origin.seed ?? config.seed };
    app = new MockApp(contracts ?? loadContracts(), settings, { ...domainHandlers, ...handlers }, loaded?.document);
    if (opened) {
      const origin: StateOrigin = { profile: settings.profile, seed: settings.seed ?? DEFAULT_SEED };
      app.persist(opened.store, origin, !loaded, onStateFailure ?? stopOnStateFailure);
      if (loaded && config.clockStart !== undefined) app.clock.set(config.clockStart);
      const clockNote = config.clockStart !== undefined ? ' (set by --clock)' : '';
      notes.push(loaded ? `State: continuing from ${stateFile} (${settings.profile} profile), clock at ${app.clock.iso()}${clockNote}` : `State: kept in ${stateFile} (new)`);
      if (loaded && scenario) notes.push(`  --scenario ${scenario} not applied: the state file already holds a state (a new file starts from the scenario)`);
    }
    configure?.(app);
    if (scenario && !loaded) notes.push(...(await applyScenario(app, scenario)));
  } catch (error) {
    abandon(opened, stateFile);
    throw error;
  }
  const certificates = tls ? await hostsModeCertificates() : undefined;
  // Node would answer 400 itself to an HTTP/1.1 request without Host; the gateway's own 403 (rule header-host) is the G-REX answer.
  const settings = { requireHostHeader: false, maxHeaderSize: HEAD_LIMIT_BYTES };
  const server: Server = certificates ? createTlsServer({ key: certificates.key, cert: certificates.cert, ...settings }, app.listener) : createServer(settings, app.listener);
  answerOversizedHeads(server, app);
  server.keepAliveTimeout = 5000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (error) {
    // The port is taken (or not ours to take): a start that never listened leaves no new state file either.
    app.closeState();
    await app.journal.close();
    abandon(opened, stateFile);
    throw error;
  }
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const scheme = certificates ? 'https' : 'http';
  // The registry UI signs in wherever its page is served: this address, localhost, and in hosts mode the real host names.
  for (const name of [shown, ...(certificates ? HOST_NAMES : ['localhost'])]) app.b2c.allowOrigin(`${scheme}://${name}:${address.port}`);
  return {
    server,
    app,
    url: `${scheme}://${shown}:${address.port}`,
    caFile: certificates?.caFile,
    notes,
    close: async (graceMs = 0) => {
      await closeServer(server, graceMs);
      app.closeState();
      await app.journal.close();
    },
  };
}

/** A start that fails: the state file is closed, and one this start created (it holds nothing to continue from) is removed. */
function abandon(opened: ReturnType<typeof StateStore.open> | undefined, stateFile: string | undefined): void {
  if (!opened) return;
  opened.store.close();
  if (!opened.loaded) for (const suffix of ['', '-wal', '-shm']) rmSync(`${stateFile}${suffix}`, { force: true });
}

/** A state file goes back to the fixtures it grew from on reset: other fixtures asked for by name are a mistake, said at once. */
function sameOrigin(file: string, origin: StateOrigin, asked: Partial<MockConfig>): void {
  if (asked.profile !== undefined && asked.profile !== origin.profile) throw new StateFileError(`${file} grew from the ${origin.profile} profile, not ${asked.profile}: drop --profile, or use another --state file`);
  if (asked.seed !== undefined && asked.seed !== origin.seed) throw new StateFileError(`${file} grew from the fixtures of seed ${origin.seed}, not ${asked.seed}: drop --seed, or use another --state file`);
}

function stopOnStateFailure(): void {
  process.exitCode = 1;
  // A moment for the 500s already written to leave.
  setTimeout(() => process.exit(1), 200).unref();
}
