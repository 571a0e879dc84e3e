import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadContracts, type ContractSet } from '../contracts/lib/load.js';
import { DEFAULT_CONFIG, MockApp, type MockConfig } from './app.js';
import { handlers as domainHandlers } from './handlers/index.js';
import type { Handler } from './handlers/kit.js';

export interface MockOptions extends Partial<MockConfig> {
  port: number;
  host: string;
  contracts?: ContractSet;
  /** Replace or add domain handlers by operationId (extensions; tests that need a misbehaving handler). */
  handlers?: Record<string, Handler>;
}

export interface RunningMock {
  server: Server;
  app: MockApp;
  url: string;
  close(): Promise<void>;
}

/** Starts the mock: one process, one port, the six APIs, their documentation, B2C's paths and /__admin. */
export async function startMock(options: MockOptions): Promise<RunningMock> {
  const { port, host, contracts, handlers, ...config } = options;
  const app = new MockApp(contracts ?? loadContracts(), { ...DEFAULT_CONFIG, ...config }, { ...domainHandlers, ...handlers });
  const server = createServer(app.listener);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  for (const origin of [`http://${shown}:${address.port}`, `http://localhost:${address.port}`]) app.b2c.allowOrigin(origin);
  return {
    server,
    app,
    url: `http://${shown}:${address.port}`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await app.journal.close();
    },
  };
}
