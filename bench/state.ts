import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMock, type Started } from './large.js';
import { CONNECTIONS, ROUNDS, ROUND_S, RUNTIMES, build, cpuTimeUs, ensureWrk, median, mintCertificates, tokenFor, wrk, type Run, type Target } from './run.js';

/**
 * The state file (`--state`) in `npm run bench`, side by side in one run:
 * POST transfer and GET account through the mock with a state file and the
 * same mock in memory (wrk, interleaved rounds, medians); then start-up
 * from a state file of the large profile beside the large profile's start
 * from its fixtures (spawn to the "Ready" line, medians of 3 starts), through
 * tsx (a clone's `npm start`) and compiled (dist/: the package, the container).
 * Runs alone: `npx tsx bench/state.ts`.
 */
const TARGETS = { transferShare: 0.5, largeStartSeconds: 3 };
const STARTS = 3;

async function stop(mock: Started): Promise<void> {
  if (mock.child.exitCode !== null) return;
  const exited = once(mock.child, 'exit');
  mock.child.kill('SIGTERM');
  await exited;
}

async function throughput(scratch: string, binary: string, raised: string): Promise<void> {
  const mocks = { 'in memory': await startMock('default', raised), '--state': await startMock('default', raised, ['--state', join(scratch, 'default.db')]) };
  try {
    const from = '643003000000000005';
    const to = '643006000000000002';
    const account = '643003000000000002';
    const targets: Target[] = [];
    for (const [name, mock] of Object.entries(mocks)) {
      const at = (path: string): string => `${mock.url}${path}`;
      const token = await tokenFor(at, 'eolien-trader');
      const minted = await mintCertificates(at, from);
      const serials = join(scratch, `${name === '--state' ? 'state' : 'memory'}-serials.txt`);
      writeFileSync(serials, `${minted.start} ${minted.end}\n`);
      let used = 0;
      targets.push(
        {
          name: `GET account   ${name}`,
          url: at(`/managementapi/AH/managementapi/Accounts/${account}`),
          args: () => ['-H', `Authorization: Bearer ${token}`, '-H', 'Accept: application/json', '-H', 'User-Agent: grex-bench'],
          pid: mock.child.pid,
        },
        {
          name: `POST transfer ${name}`,
          url: mock.url,
          args: () => ['-s', 'bench/transfer.lua', '--', '/transactionapi/AH/transactionapi/Transfers', token, from, to, serials, String(used)],
          ran: (requests) => (used += requests + 2 * CONNECTIONS),
          pid: mock.child.pid,
        },
      );
    }
    process.stdout.write(`grex-harness bench, state file: wrk -t1 -c${CONNECTIONS}, ${ROUNDS} interleaved rounds of ${ROUND_S} s after a 1 s warm-up each\n\n`);
    const runs = new Map<string, Run[]>(targets.map((target) => [target.name, []]));
    for (const target of targets) wrk(binary, target, 1);
    for (let round = 0; round < ROUNDS; round++) for (const target of targets) runs.get(target.name)?.push(wrk(binary, target, ROUND_S));
    const rps = (name: string): number => median((runs.get(name) ?? []).map((run) => run.rps));
    const cpu = (name: string): number => median((runs.get(name) ?? []).map((run) => run.cpuUs));
    for (const target of targets) {
      const list = runs.get(target.name) ?? [];
      const failed = list.reduce((sum, run) => sum + run.failed, 0);
      process.stdout.write(
        `${target.name.padEnd(24)} ${Math.round(rps(target.name)).toString().padStart(7)} req/s median  p99 ${median(list.map((run) => run.p99)).toFixed(1).padStart(6)} ms  CPU ${cpu(target.name).toFixed(0).padStart(4)} µs/req  (rounds ${list.map((run) => Math.round(run.rps)).join(', ')})${failed ? `  ${failed} non-2xx` : ''}\n`,
      );
    }
    process.stdout.write('\n');
    for (const kind of ['GET account  ', 'POST transfer']) {
      const share = rps(`${kind} --state`) / rps(`${kind} in memory`);
      const target = kind === 'POST transfer' ? `, target ${100 * TARGETS.transferShare}% or more: ${share >= TARGETS.transferShare ? 'met' : 'MISSED'}` : '';
      process.stdout.write(`${kind}: with --state = ${(100 * share).toFixed(0)}% of in memory (CPU per request ${(cpu(`${kind} --state`) - cpu(`${kind} in memory`)).toFixed(0)} µs more)${target}\n`);
    }
  } finally {
    await Promise.all(Object.values(mocks).map(stop));
  }
  process.stdout.write(`(state file after the load: ${(statSync(join(scratch, 'default.db')).size / 1e6).toFixed(0)} MB)\n\n`);
}

async function largeStart(scratch: string, raised: string): Promise<void> {
  const file = join(scratch, 'large.db');
  const startTimes = async (extra: string[], runtime: readonly string[]): Promise<number[]> => {
    const seconds: number[] = [];
    for (let start = 0; start < STARTS; start++) {
      const mock = await startMock('large', raised, extra, runtime);
      seconds.push(mock.spawnToReady / 1000);
      await stop(mock);
    }
    return seconds;
  };
  const created = await startMock('large', raised, ['--state', file]);
  const cpuCreate = cpuTimeUs(created.child.pid);
  await stop(created);
  const size = statSync(file).size / 1e6;
  const line = (label: string, seconds: number[], target = false): string =>
    `  ${label.padEnd(44)}${median(seconds).toFixed(2)} s  (${seconds.map((s) => s.toFixed(2)).join(', ')})${
      target ? `, target ${TARGETS.largeStartSeconds} s or less: ${median(seconds) <= TARGETS.largeStartSeconds ? 'met' : 'MISSED'}` : ''
    }\n`;
  process.stdout.write(`large profile, spawn to "Ready" (median of ${STARTS}), through tsx (npm start) and compiled (dist/: the package, the container):\n`);
  for (const [name, runtime] of Object.entries(RUNTIMES)) {
    process.stdout.write(line(`${name}: from its fixtures (in memory)`, await startTimes([], runtime)));
    process.stdout.write(line(`${name}: from a state file (${size.toFixed(0)} MB)`, await startTimes(['--state', file], runtime), true));
  }
  process.stdout.write(`  first start, writing the file (tsx)         ${(created.spawnToReady / 1000).toFixed(2)} s (${(cpuCreate / 1e6).toFixed(1)} s of CPU)\n`);
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'grex-bench-state-'));
  try {
    const binary = ensureWrk();
    build();
    // As users run it (firewall and fair use on), the limits raised so that the load is not refused (as bench/run.ts).
    const raised = join(scratch, 'raised.json');
    writeFileSync(raised, JSON.stringify({ fairUse: { limits: [{ requests: 1_000_000_000, windowSeconds: 60 }] } }));
    await throughput(scratch, binary, raised);
    await largeStart(scratch, raised);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench/state: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
