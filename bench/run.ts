import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadContracts } from '../contracts/lib/load.js';
import { gsrnCheckDigit } from '../mock/domain/model.js';
import { freePorts } from '../test/support/ports.js';

/**
 * `npm run bench`: one run, one machine, side by side. For GET account and
 * POST transfer: a raw node:http JSON server (the ceiling), Prism's mock of
 * the same contract (`prism mock -v silent`), and this mock's full pipeline
 * (token check, contract validation, domain rules, journal). Servers run in
 * their own processes on 127.0.0.1; wrk (one thread, 64 connections) is the
 * load. Rounds are interleaved across servers so that a noisy moment of the
 * machine hits all of them alike; each figure is the median of the rounds.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The mock as the checkout runs it (`npm start`: TypeScript through tsx), and as the package and the container run it (dist/, plain node). */
export const RUNTIMES = {
  tsx: [process.execPath, '--import', 'tsx', 'cli/grex-harness.ts'],
  compiled: [process.execPath, 'dist/cli/grex-harness.js'],
} as const;
export const ROUND_S = Number(process.env.BENCH_ROUND_S ?? 3);
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
export const CONNECTIONS = 64;
const START_ROUNDS = 5;

export interface Target {
  name: string;
  url: string;
  /** wrk arguments after the URL: a script and its arguments, or headers. */
  args: () => string[];
  /** Called with the requests a run completed (transfers use up certificates). */
  ran?: (requests: number) => void;
  /** The server's process, for the CPU it spends per request. */
  pid?: number;
}

export interface Run {
  rps: number;
  p99: number;
  requests: number;
  failed: number;
  /** CPU time (user and system, all threads) the server spent per completed request, µs; NaN where /proc is missing. */
  cpuUs: number;
}

const children: ChildProcess[] = [];
let scratch = '';

export function ensureWrk(): string {
  if (existsSync('/usr/bin/wrk')) return '/usr/bin/wrk';
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root && existsSync('/usr/bin/apt-get')) {
    process.stdout.write("bench: installing Debian's wrk (the load generator)\n");
    spawnSync('apt-get', ['install', '-y', '-qq', 'wrk'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (existsSync('/usr/bin/wrk')) return '/usr/bin/wrk';
  }
  throw new Error('wrk is needed as the load generator: apt-get install wrk (or brew install wrk)');
}

export function start(command: string, args: string[]): number | undefined {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child.pid;
}

/** A process's CPU time so far (user and system, all its threads), µs; NaN without Linux's /proc. */
export function cpuTimeUs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) / 100) * 1e6;
  } catch {
    return Number.NaN;
  }
}

export async function ready(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`${url} did not start within 60 s`);
}

export function wrk(binary: string, target: Target, seconds: number): Run {
  const cpuBefore = cpuTimeUs(target.pid);
  const result = spawnSync(binary, ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', target.url, ...target.args()], { encoding: 'utf8' });
  const cpuAfter = cpuTimeUs(target.pid);
  const out = result.stdout;
  const number = (pattern: RegExp): number => Number(pattern.exec(out)?.[1] ?? Number.NaN);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const scale = p99?.[2] === 'us' ? 0.001 : p99?.[2] === 's' ? 1000 : 1;
  const requests = number(/(\d+) requests in/);
  const run = {
    rps: number(/Requests\/sec:\s+([\d.]+)/),
    p99: p99 ? Number(p99[1]) * scale : Number.NaN,
    requests,
    failed: number(/Non-2xx or 3xx responses: (\d+)/) || 0,
    cpuUs: (cpuAfter - cpuBefore) / requests,
  };
  if (Number.isNaN(run.rps)) throw new Error(`wrk failed on ${target.name}: ${out}${result.stderr}`);
  target.ran?.(run.requests);
  return run;
}

export interface Ready {
  child: ChildProcess;
  url: string;
  /** Spawn to the "Ready" line, ms. */
  spawnToReady: number;
  /** What the banner says: ready in N ms (inside the process). */
  readyIn: number;
}

/** Starts `grex-harness mock` with `args` and resolves at its "Ready" line, timed from the spawn. */
export function startReady(runtime: readonly string[], args: string[]): Promise<Ready> {
  const spawned = performance.now();
  const child = spawn(runtime[0], [...runtime.slice(1), 'mock', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let banner = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`grex-harness mock ${args.join(' ')} did not start in 60 s`));
    }, 60_000);
    child.once('exit', (code) => reject(new Error(`grex-harness mock ${args.join(' ')} exited with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      banner += chunk.toString();
      if (!banner.includes('Ready. Press Ctrl+C to stop.')) return;
      const spawnToReady = performance.now() - spawned;
      clearTimeout(timer);
      child.stdout?.removeAllListeners('data');
      child.stdout?.resume();
      const match = /listening on (http:\/\/\S+) \(ready in (\d+) ms\)/.exec(banner);
      if (!match) return reject(new Error(`unexpected banner: ${banner}`));
      resolve({ child, url: match[1], spawnToReady, readyIn: Number(match[2]) });
    });
  });
}

/** `npm run build`: the compiled tool the bench runs beside the tsx one is this checkout's. */
export function build(): void {
  const built = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) throw new Error('npm run build failed');
}

/** Spawn to Ready for each runtime, `rounds` starts each, interleaved; medians, ms. */
async function startUp(rounds: number): Promise<Record<keyof typeof RUNTIMES, { spawnToReady: number; readyIn: number }>> {
  const times = { tsx: [] as Ready[], compiled: [] as Ready[] };
  for (let round = 0; round < rounds; round++) {
    for (const runtime of ['tsx', 'compiled'] as const) {
      const ready = await startReady(RUNTIMES[runtime], ['--port', '0']);
      ready.child.kill('SIGTERM');
      times[runtime].push(ready);
    }
  }
  const summary = (list: Ready[]) => ({ spawnToReady: median(list.map((ready) => ready.spawnToReady)), readyIn: median(list.map((ready) => ready.readyIn)) });
  return { tsx: summary(times.tsx), compiled: summary(times.compiled) };
}

/**
 * One function made per request, through tsx and compiled (bench/closure-cost.ts
 * run both ways, `rounds` times each, interleaved): ns per request more than
 * the same memo in plain statements; medians.
 */
function closureCost(rounds: number): Record<keyof typeof RUNTIMES, number> {
  const compiled = join(scratch, 'closure-cost');
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), join(ROOT, 'bench', 'closure-cost.ts'), '--outDir', compiled, '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--types', 'node', '--skipLibCheck'], { cwd: ROOT, encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`tsc bench/closure-cost.ts: ${tsc.stdout}${tsc.stderr}`);
  const costs = { tsx: [] as number[], compiled: [] as number[] };
  const commands = { tsx: ['--import', 'tsx', join(ROOT, 'bench', 'closure-cost.ts')], compiled: [join(compiled, 'closure-cost.js')] };
  for (let round = 0; round < rounds; round++) {
    for (const runtime of ['tsx', 'compiled'] as const) {
      const run = spawnSync(process.execPath, commands[runtime], { cwd: ROOT, encoding: 'utf8' });
      const { closureNs, plainNs } = JSON.parse(run.stdout) as { closureNs: number; plainNs: number };
      costs[runtime].push(closureNs - plainNs);
    }
  }
  return { tsx: median(costs.tsx), compiled: median(costs.compiled) };
}

export async function tokenFor(mock: (path: string) => string, user: string): Promise<string> {
  const reply = await fetch(mock('/__admin/token'), { method: 'POST', body: JSON.stringify({ user }) });
  return ((await reply.json()) as { access_token: string }).access_token;
}

/**
 * Enough certificates for every transfer of the run, made the way a registry
 * makes them, through the APIs: a 10 GW device registered by Éolien du Ponant,
 * approved by the issuing body, and a direct issuance of one million
 * certificates for the month before the clock's into its issuing account.
 */
export async function mintCertificates(mock: (path: string) => string, account: string): Promise<{ start: number; end: number }> {
  const call = async (user: string, method: string, path: string, body: object): Promise<{ responseCode: string; responseMessage: string }> => {
    const reply = await fetch(mock(path), { method, headers: { authorization: `Bearer ${await tokenFor(mock, user)}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = (await reply.json()) as { responseCode: string; responseMessage: string };
    if (reply.status >= 300) throw new Error(`${method} ${path}: ${JSON.stringify(answer)}`);
    return answer;
  };
  const gsrn = `64300399000000001${gsrnCheckDigit('64300399000000001')}`;
  const now = (await (await fetch(mock('/__admin/clock'))).json()) as { now: string };
  const month = new Date(now.now);
  const start = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() - 1, 1)).toISOString().slice(0, 10);
  const end = new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth(), 0)).toISOString().slice(0, 10);
  await call('eolien-pd-administrator', 'POST', '/managementapi/AH/managementapi/ProductionDevices', {
    gsrn,
    name: 'Bench offshore cluster',
    technologyCode: 'T020002',
    energySourceCode: 'F01050100',
    capacityMW: 10000,
    commissioningDate: '2020-01-01',
    country: 'FR',
    issuingAccountNumber: account,
  });
  await call('eolien-pd-administrator', 'PATCH', `/managementapi/AH/managementapi/ProductionDevices/${gsrn}/Status`, { status: 'Submitted' });
  await call('ib-pd-administrator', 'PATCH', `/managementapi/IB/managementapi/ProductionDevices/${gsrn}/Status`, { status: 'Approved' });
  await call('ib-root', 'POST', '/certificatecreationapi/IB/certificatecreationapi/Issuances', {
    gsrn,
    accountNumber: account,
    productionPeriodStart: start,
    productionPeriodEnd: end,
    volumeMWh: 1_000_000,
    reason: 'grex-harness bench',
  });
  const token = await tokenFor(mock, 'eolien-trader');
  const filter = encodeURIComponent(`accountNumber eq '${account}' and gsrn eq '${gsrn}'`);
  const [bundle] = (await (await fetch(mock(`/privatereportsapi/AH/privatereportsapi/Certificates?$top=1&$filter=${filter}`), { headers: { authorization: `Bearer ${token}` } })).json()) as {
    startCertificateId: string;
    endCertificateId: string;
  }[];
  return { start: Number(bundle.startCertificateId.slice(1)), end: Number(bundle.endCertificateId.slice(1)) };
}

export const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  scratch = mkdtempSync(join(tmpdir(), 'grex-bench-'));
  const binary = ensureWrk();
  build();
  // On a quiet machine, before any server runs: start-up and the closure A/B, each runtime beside the other.
  const startUpTimes = await startUp(START_ROUNDS);
  const closures = closureCost(START_ROUNDS);
  const { contracts } = loadContracts();
  const files: Record<string, string> = {};
  for (const name of ['management', 'transaction']) {
    files[name] = join(scratch, `${name}.json`);
    writeFileSync(files[name], JSON.stringify(contracts.find((entry) => entry.name === name)?.doc));
  }
  const names = ['raw', 'prismManagement', 'prismTransaction', 'mock', 'bare', 'noCors', 'compiled'] as const;
  const free = await freePorts(names.length);
  const ports = Object.fromEntries(names.map((name, index) => [name, free[index]])) as Record<(typeof names)[number], number>;
  // The mock as users run it (firewall and fair use on), its limits raised so that the load is not refused; and the same pipeline with both off.
  const raised = join(scratch, 'raised.json');
  writeFileSync(raised, JSON.stringify({ fairUse: { limits: [{ requests: 1_000_000_000, windowSeconds: 60 }] } }));
  const url = (port: number, path = '/'): string => `http://127.0.0.1:${port}${path}`;
  const prism = join(ROOT, 'node_modules', '.bin', 'prism');
  const pids = {
    raw: start(process.execPath, ['--import', 'tsx', 'bench/raw-server.ts', String(ports.raw)]),
    prismManagement: start(prism, ['mock', '-v', 'silent', '-h', '127.0.0.1', '-p', String(ports.prismManagement), files.management]),
    prismTransaction: start(prism, ['mock', '-v', 'silent', '-h', '127.0.0.1', '-p', String(ports.prismTransaction), files.transaction]),
    mock: start(RUNTIMES.tsx[0], [...RUNTIMES.tsx.slice(1), 'mock', '--port', String(ports.mock), '--config', raised]),
    bare: start(RUNTIMES.tsx[0], [...RUNTIMES.tsx.slice(1), 'mock', '--port', String(ports.bare), '--firewall', 'off', '--fair-use', 'off']),
    // As users run it but without the CORS headers on every answer: what they cost a GET.
    noCors: start(RUNTIMES.tsx[0], [...RUNTIMES.tsx.slice(1), 'mock', '--port', String(ports.noCors), '--config', raised, '--cors', 'off']),
    compiled: start(RUNTIMES.compiled[0], [...RUNTIMES.compiled.slice(1), 'mock', '--port', String(ports.compiled), '--config', raised]),
  };
  await Promise.all([
    ready(url(ports.raw)),
    ready(url(ports.prismManagement)),
    ready(url(ports.prismTransaction)),
    ready(url(ports.mock, '/__admin/health')),
    ready(url(ports.bare, '/__admin/health')),
    ready(url(ports.noCors, '/__admin/health')),
    ready(url(ports.compiled, '/__admin/health')),
  ]);

  const mock = (path: string): string => url(ports.mock, path);
  const token = await tokenFor(mock, 'eolien-trader');
  const from = '643003000000000005';
  const to = '643006000000000002';
  const bare = (path: string): string => url(ports.bare, path);
  const serialsOf = async (target: (path: string) => string, name: string): Promise<{ file: string; available: number }> => {
    const minted = await mintCertificates(target, from);
    const file = join(scratch, name);
    writeFileSync(file, `${minted.start} ${minted.end}\n`);
    return { file, available: minted.end - minted.start + 1 };
  };
  const { file: serials, available } = await serialsOf(mock, 'serials.txt');
  const { file: bareSerials } = await serialsOf(bare, 'bare-serials.txt');
  const bareToken = await tokenFor(bare, 'eolien-trader');
  const noCorsToken = await tokenFor((path) => url(ports.noCors, path), 'eolien-trader');
  const compiled = (path: string): string => url(ports.compiled, path);
  const { file: compiledSerials } = await serialsOf(compiled, 'compiled-serials.txt');
  const compiledToken = await tokenFor(compiled, 'eolien-trader');
  const sample = join(scratch, 'transfer.json');
  writeFileSync(sample, JSON.stringify({ fromAccountNumber: from, toAccountNumber: to, bundles: [{ startCertificateId: '10000000000000000001', endCertificateId: '10000000000000000001' }] }));
  // Certificates already moved by earlier runs; in-flight requests at a run's end may have used a few more.
  let used = 0;
  const account = '643003000000000002';
  /** GET account and POST transfer on another of the mock's servers; each transfer moves a certificate that never moved. */
  const mockTargets = (label: string, port: number, pid: number | undefined, bearer: string, serialsFile: string): Target[] => {
    let moved = 0;
    return [
      {
        name: `GET account   ${label}`,
        pid,
        url: url(port, `/managementapi/AH/managementapi/Accounts/${account}`),
        args: () => ['-H', `Authorization: Bearer ${bearer}`, '-H', 'Accept: application/json', '-H', 'User-Agent: grex-bench'],
      },
      {
        name: `POST transfer ${label}`,
        pid,
        url: url(port),
        args: () => ['-s', 'bench/transfer.lua', '--', '/transactionapi/AH/transactionapi/Transfers', bearer, from, to, serialsFile, String(moved)],
        ran: (requests) => (moved += requests + 2 * CONNECTIONS),
      },
    ];
  };
  const auth = ['-H', `Authorization: Bearer ${token}`, '-H', 'Accept: application/json', '-H', 'User-Agent: grex-bench'];
  const targets: Target[] = [
    { name: 'GET account   raw node:http', url: url(ports.raw), args: () => auth, pid: pids.raw },
    { name: 'GET account   prism mock', url: url(ports.prismManagement, `/AH/managementapi/Accounts/${account}`), args: () => auth, pid: pids.prismManagement },
    { name: 'GET account   grex-harness', url: url(ports.mock, `/managementapi/AH/managementapi/Accounts/${account}`), args: () => auth, pid: pids.mock },
    { name: 'POST transfer raw node:http', url: url(ports.raw), args: () => ['-s', 'bench/post.lua', '--', '/', sample, token], pid: pids.raw },
    { name: 'POST transfer prism mock', url: url(ports.prismTransaction), args: () => ['-s', 'bench/post.lua', '--', '/AH/transactionapi/Transfers', sample, token], pid: pids.prismTransaction },
    {
      name: 'POST transfer grex-harness',
      pid: pids.mock,
      url: url(ports.mock),
      args: () => ['-s', 'bench/transfer.lua', '--', '/transactionapi/AH/transactionapi/Transfers', token, from, to, serials, String(used)],
      ran: (requests) => (used += requests + 2 * CONNECTIONS),
    },
    ...mockTargets('gateway off', ports.bare, pids.bare, bareToken, bareSerials),
    {
      name: 'GET account   CORS off',
      pid: pids.noCors,
      url: url(ports.noCors, `/managementapi/AH/managementapi/Accounts/${account}`),
      args: () => ['-H', `Authorization: Bearer ${noCorsToken}`, '-H', 'Accept: application/json', '-H', 'User-Agent: grex-bench'],
    },
    ...mockTargets('compiled', ports.compiled, pids.compiled, compiledToken, compiledSerials),
  ];
  process.stdout.write(`grex-harness bench: wrk -t1 -c${CONNECTIONS}, ${ROUNDS} interleaved rounds of ${ROUND_S} s after a 1 s warm-up each, 127.0.0.1\n`);
  process.stdout.write(`(${available} certificates available for single-certificate transfers)\n\n`);
  const runs = new Map<string, Run[]>(targets.map((target) => [target.name, []]));
  for (const target of targets) wrk(binary, target, 1);
  for (let round = 0; round < ROUNDS; round++) for (const target of targets) runs.get(target.name)?.push(wrk(binary, target, ROUND_S));
  for (const target of targets) {
    const list = runs.get(target.name) ?? [];
    const failed = list.reduce((sum, run) => sum + run.failed, 0);
    const cpu = median(list.map((run) => run.cpuUs));
    process.stdout.write(
      `${target.name.padEnd(28)} ${Math.round(median(list.map((run) => run.rps))).toString().padStart(7)} req/s median  p99 ${median(list.map((run) => run.p99)).toFixed(1).padStart(6)} ms${Number.isNaN(cpu) ? '' : `  CPU ${cpu.toFixed(0).padStart(4)} µs/req`}  (rounds ${list.map((run) => Math.round(run.rps)).join(', ')})${failed ? `  ${failed} non-2xx` : ''}\n`,
    );
  }
  const rps = (name: string): number => median((runs.get(name) ?? []).map((run) => run.rps));
  const cpuPerRequest = (name: string): number => median((runs.get(name) ?? []).map((run) => run.cpuUs));
  process.stdout.write('\n');
  for (const kind of ['GET account  ', 'POST transfer']) {
    const mine = rps(`${kind} grex-harness`);
    process.stdout.write(
      `${kind}: grex-harness = ${(mine / rps(`${kind} prism mock`)).toFixed(1)}x Prism (target 8x or more), ${((100 * mine) / rps(`${kind} raw node:http`)).toFixed(0)}% of raw node:http (target 35% or more)\n`,
    );
  }
  for (const kind of ['GET account  ', 'POST transfer']) {
    const on = rps(`${kind} grex-harness`);
    const off = rps(`${kind} gateway off`);
    process.stdout.write(`${kind}: with the firewall and fair use on (limits raised) = ${((100 * on) / off).toFixed(0)}% of the same pipeline with both off (target 90% or more)\n`);
  }
  const corsOn = rps('GET account   grex-harness');
  process.stdout.write(
    `GET account  : with CORS headers on every answer (the default) = ${((100 * corsOn) / rps('GET account   CORS off')).toFixed(0)}% of --cors off; CPU ${cpuPerRequest('GET account   grex-harness').toFixed(0)} µs against ${cpuPerRequest('GET account   CORS off').toFixed(0)} µs per request\n`,
  );
  // Throughput on this VM moves with its neighbours; the CPU a server spends per request moves much less. Not the targets, a steadier view of them.
  if (!Number.isNaN(cpuPerRequest('GET account   grex-harness'))) {
    process.stdout.write('\nCPU per request (server process, all threads; medians), a steadier view of the same ratios:\n');
    for (const kind of ['GET account  ', 'POST transfer']) {
      const mine = cpuPerRequest(`${kind} grex-harness`);
      const raw = cpuPerRequest(`${kind} raw node:http`);
      const prismCpu = cpuPerRequest(`${kind} prism mock`);
      process.stdout.write(
        `${kind}: raw ${raw.toFixed(0)} µs, Prism ${prismCpu.toFixed(0)} µs, grex-harness ${mine.toFixed(0)} µs: Prism spends ${(prismCpu / mine).toFixed(1)}x the mock's CPU, the mock ${((100 * raw) / mine).toFixed(0)}% of raw's throughput per core\n`,
      );
    }
  }
  // The same mock, as the checkout runs it (tsx) and as the package and the container run it (compiled).
  process.stdout.write('\nThe mock through tsx (npm start) and compiled (dist/, the package, the container), same flags:\n');
  const rows: [string, string, string, string][] = [
    ['start-up, spawn to Ready', `${(startUpTimes.tsx.spawnToReady / 1000).toFixed(2)} s`, `${(startUpTimes.compiled.spawnToReady / 1000).toFixed(2)} s`, `median of ${START_ROUNDS}`],
    ['start-up, "ready in" (in process)', `${(startUpTimes.tsx.readyIn / 1000).toFixed(2)} s`, `${(startUpTimes.compiled.readyIn / 1000).toFixed(2)} s`, ''],
  ];
  for (const kind of ['GET account  ', 'POST transfer']) {
    const tsx = rps(`${kind} grex-harness`);
    const built = rps(`${kind} compiled`);
    rows.push([`${kind.trim()}, req/s`, `${Math.round(tsx)}`, `${Math.round(built)}`, `compiled ${((100 * built) / tsx).toFixed(0)}% of tsx`]);
    const tsxCpu = cpuPerRequest(`${kind} grex-harness`);
    const builtCpu = cpuPerRequest(`${kind} compiled`);
    if (!Number.isNaN(tsxCpu)) rows.push([`${kind.trim()}, CPU µs/req`, tsxCpu.toFixed(0), builtCpu.toFixed(0), '']);
  }
  const getCpu = cpuPerRequest('GET account   compiled');
  rows.push([
    'one closure per request (A/B)',
    `${closures.tsx.toFixed(0)} ns`,
    `${closures.compiled.toFixed(0)} ns`,
    Number.isNaN(getCpu) ? '' : `${((100 * closures.tsx) / cpuPerRequest('GET account   grex-harness') / 1000).toFixed(1)}% / ${((100 * closures.compiled) / getCpu / 1000).toFixed(2)}% of a GET's CPU`,
  ]);
  const header: [string, string, string, string] = ['', 'tsx', 'compiled', ''];
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
  for (const row of [header, ...rows]) process.stdout.write(`  ${row.map((cell, column) => (column === 0 || column === 3 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ')}\n`);
  if (used > available) process.stdout.write(`note: the transfer runs needed ${used} certificates but ${available} were available; later transfers were refused\n`);
}

/** The servers started by `start`, stopped at the end of a run. */
export function stopAll(): void {
  for (const child of children) child.kill('SIGTERM');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main()
    .catch((error: unknown) => {
      process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    })
    .finally(() => {
      stopAll();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    });
}
