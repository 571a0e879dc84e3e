import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { loadContracts, type ContractSet } from '../contracts/lib/load.js';
import { DEFAULT_CONFIG, MockApp, type MockConfig } from './app.js';
import { handlers as domainHandlers } from './handlers/index.js';
import { closeServer } from './close-server.js';
import { answerOversizedHeads, HEAD_LIMIT_BYTES } from './head-limit.js';
import { HOST_NAMES, hostsModeCertificates } from './tls.js';
import type { Handler } from './handlers/kit.js';

export interface MockOptions extends Partial<MockConfig> {
  port: number;
  host: string;
  contracts?: ContractSet;
  /** Replace or add domain handlers by operationId (extensions; tests that need a misbehaving handler). */
  handlers?: Record<string, Handler>;
  /** Hosts mode: HTTPS with certificates for the real host names, from the mock's own authority. */
  tls?: boolean;
}

export interface RunningMock {
  server: Server;
  app: MockApp;
  url: string;
  /** In hosts mode, the certificate authority a client must trust. */
  caFile?: string;
  /** Stops the mock; `graceMs` lets answers under way finish first (default: none, closed at once). */
  close(graceMs?: number): Promise<void>;
}

/** Starts the mock: one process, one port, the six APIs, their documentation, B2C's paths and /__admin. */
export async function startMock(options: MockOptions): Promise<RunningMock> {
  const { port, host, contracts, handlers, tls, ...config } = options;
  const app = new MockApp(contracts ?? loadContracts(), { ...DEFAULT_CONFIG, ...config }, { ...domainHandlers, ...handlers });
  const certificates = tls ? await hostsModeCertificates() : undefined;
  // Node would answer 400 itself to an HTTP/1.1 request without Host; the gateway's own 403 (rule header-host) is the G-REX answer.
  const settings = { requireHostHeader: false, maxHeaderSize: HEAD_LIMIT_BYTES };
  const server: Server = certificates ? createTlsServer({ key: certificates.key, cert: certificates.cert, ...settings }, app.listener) : createServer(settings, app.listener);
  answerOversizedHeads(server, app);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
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
    close: async (graceMs = 0) => {
      await closeServer(server, graceMs);
      await app.journal.close();
    },
  };
}
