import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadContracts, type ContractSet } from '../contracts/lib/load.js';
import { createDocs } from './docs.js';

export interface MockOptions {
  port: number;
  host: string;
  contracts?: ContractSet;
}

export interface RunningMock {
  server: Server;
  url: string;
  contracts: ContractSet;
  close(): Promise<void>;
}

/** Starts the mock: one process, one port, every API's documentation at its G-REX path. */
export async function startMock(options: MockOptions): Promise<RunningMock> {
  const contracts = options.contracts ?? loadContracts();
  const docs = createDocs(contracts.contracts);
  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://mock').pathname;
    if (pathname === '/') {
      res.writeHead(302, { location: '/__docs/', 'content-length': '0' }).end();
      return;
    }
    if (docs(req, res, pathname)) return;
    const body = JSON.stringify({ statusCode: 404, error: 'Not Found', message: `No G-REX resource at ${pathname}. The API documentation is listed at /__docs/.` });
    res.writeHead(404, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${host}:${address.port}`,
    contracts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
