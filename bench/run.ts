import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { loadContracts } from '../contracts/lib/load.js';

/**
 * `npm run bench`: one run, one machine, side by side. For GET account and
 * POST transfer: a raw node:http JSON server (the ceiling), Prism's mock of
 * the same contract (`prism mock -v silent`), and this mock's full pipeline
 * (token check, contract validation, domain rules, journal). Each figure is
 * the median of the rounds' requests per second, with the p99 latency.
 * Servers run in their own processes on 127.0.0.1; the load comes from here.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_MS = 1000;
const CONNECTIONS = 8;
const PIPELINING = 8;

interface Target {
  name: string;
  url: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  /** A new body per request (transfers must not repeat: duplicates are refused). */
  body?: () => string;
  expect: number;
}

interface Result {
  name: string;
  rps: number[];
  p99: number;
  unexpected: number;
}

const children: ChildProcess[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'grex-bench-'));

function start(command: string, args: string[]): void {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
}

async function ready(url: string, path: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      await fetch(`${url}${path}`);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`${url} did not start within 60 s`);
}

async function measure(target: Target): Promise<Result> {
  const pool = new Pool(target.url, { connections: CONNECTIONS, pipelining: PIPELINING });
  let unexpected = 0;
  const run = async (ms: number, latencies: number[] | null): Promise<number> => {
    let done = 0;
    const until = performance.now() + ms;
    const worker = async (): Promise<void> => {
      while (performance.now() < until) {
        const started = performance.now();
        const response = await pool.request({ method: target.method, path: target.path, headers: target.headers, body: target.body?.() });
        await response.body.dump();
        if (response.statusCode !== target.expect) unexpected++;
        latencies?.push(performance.now() - started);
        done++;
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS * PIPELINING }, worker));
    return done / (ms / 1000);
  };
  await run(WARMUP_MS, null);
  unexpected = 0;
  const latencies: number[] = [];
  const rps: number[] = [];
  for (let round = 0; round < ROUNDS; round++) rps.push(await run(ROUND_MS, latencies));
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { name: target.name, rps, p99: latencies[Math.floor(latencies.length * 0.99)] ?? 0, unexpected };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  const { contracts } = loadContracts();
  const files: Record<string, string> = {};
  for (const name of ['management', 'transaction']) {
    const contract = contracts.find((entry) => entry.name === name);
    files[name] = join(scratch, `${name}.json`);
    writeFileSync(files[name], JSON.stringify(contract?.doc));
  }
  const ports = { raw: 4701, prismManagement: 4702, prismTransaction: 4703, mock: 4704 };
  start(process.execPath, ['--import', 'tsx', 'bench/raw-server.ts', String(ports.raw)]);
  start(join(ROOT, 'node_modules', '.bin', 'prism'), ['mock', '-v', 'silent', '-h', '127.0.0.1', '-p', String(ports.prismManagement), files.management]);
  start(join(ROOT, 'node_modules', '.bin', 'prism'), ['mock', '-v', 'silent', '-h', '127.0.0.1', '-p', String(ports.prismTransaction), files.transaction]);
  start(process.execPath, ['--import', 'tsx', 'cli/grex-harness.ts', 'mock', '--port', String(ports.mock)]);
  const url = (port: number): string => `http://127.0.0.1:${port}`;
  await Promise.all([ready(url(ports.raw), '/'), ready(url(ports.prismManagement), '/'), ready(url(ports.prismTransaction), '/'), ready(url(ports.mock), '/__admin/health')]);

  const mock = url(ports.mock);
  const token = (await (await fetch(`${mock}/__admin/token`, { method: 'POST', body: JSON.stringify({ user: 'eolien-trader' }) })).json()).access_token as string;
  const from = '643003000000000005';
  const to = '643006000000000002';
  const serials: [number, number][] = [];
  for (let skip = 0; ; skip += 500) {
    const filter = encodeURIComponent(`accountNumber eq '${from}' and status eq 'Active'`);
    const page = (await (await fetch(`${mock}/privatereportsapi/AH/privatereportsapi/Certificates?$top=500&$skip=${skip}&$filter=${filter}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { startCertificateId: string; endCertificateId: string }[];
    for (const bundle of page) serials.push([Number(bundle.startCertificateId.slice(1)), Number(bundle.endCertificateId.slice(1))]);
    if (page.length < 500) break;
  }
  const available = serials.reduce((sum, [start, end]) => sum + end - start + 1, 0);
  let bundle = 0;
  let next = serials[0]?.[0] ?? 0;
  const transfer = (): string => {
    while (bundle < serials.length && next > serials[bundle][1]) next = serials[++bundle]?.[0] ?? 0;
    const id = `1${String(next++).padStart(19, '0')}`;
    return JSON.stringify({ fromAccountNumber: from, toAccountNumber: to, bundles: [{ startCertificateId: id, endCertificateId: id }] });
  };
  const sample = JSON.stringify({ fromAccountNumber: from, toAccountNumber: to, bundles: [{ startCertificateId: '10000000000000000001', endCertificateId: '10000000000000000001' }] });
  const json = { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'grex-bench', authorization: `Bearer ${token}` };
  const account = '643003000000000002';

  const targets: Target[] = [
    { name: 'GET account   raw node:http', url: url(ports.raw), method: 'GET', path: '/', headers: json, expect: 200 },
    { name: 'GET account   prism mock', url: url(ports.prismManagement), method: 'GET', path: `/AH/managementapi/Accounts/${account}`, headers: json, expect: 200 },
    { name: 'GET account   grex-harness', url: mock, method: 'GET', path: `/managementapi/AH/managementapi/Accounts/${account}`, headers: json, expect: 200 },
    { name: 'POST transfer raw node:http', url: url(ports.raw), method: 'POST', path: '/', headers: json, body: () => sample, expect: 201 },
    { name: 'POST transfer prism mock', url: url(ports.prismTransaction), method: 'POST', path: '/AH/transactionapi/Transfers', headers: json, body: () => sample, expect: 201 },
    { name: 'POST transfer grex-harness', url: mock, method: 'POST', path: '/transactionapi/AH/transactionapi/Transfers', headers: json, body: transfer, expect: 201 },
  ];
  process.stdout.write(`grex-harness bench: ${ROUNDS} rounds of ${ROUND_MS} ms after ${WARMUP_MS} ms warm-up, ${CONNECTIONS} connections x ${PIPELINING} pipelined, 127.0.0.1\n`);
  process.stdout.write(`(${available} certificates available for single-certificate transfers)\n\n`);
  const results: Result[] = [];
  for (const target of targets) {
    const result = await measure(target);
    results.push(result);
    process.stdout.write(
      `${result.name.padEnd(30)} ${Math.round(median(result.rps)).toString().padStart(7)} req/s median  (rounds ${result.rps.map((r) => Math.round(r)).join(', ')})  p99 ${result.p99.toFixed(1)} ms${result.unexpected ? `  ${result.unexpected} unexpected statuses` : ''}\n`,
    );
  }
  const rps = (name: string): number => median(results.find((result) => result.name === name)?.rps ?? [0]);
  process.stdout.write('\n');
  for (const kind of ['GET account  ', 'POST transfer']) {
    const mine = rps(`${kind} grex-harness`);
    const prism = rps(`${kind} prism mock`);
    const raw = rps(`${kind} raw node:http`);
    process.stdout.write(
      `${kind}: grex-harness = ${(mine / prism).toFixed(1)}x Prism (target 8x or more), ${((100 * mine) / raw).toFixed(0)}% of raw node:http (target 35% or more)\n`,
    );
  }
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) child.kill('SIGTERM');
    rmSync(scratch, { recursive: true, force: true });
  });
