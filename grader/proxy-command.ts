import { writeFileSync } from 'node:fs';
import { PulledError } from '../contracts/lib/pulled.js';
import { loadServedContracts } from '../contracts/lib/served.js';
import { TENANTS } from '../mock/app.js';
import { MANUAL_LIMITS, type FairUseLimit } from '../mock/fairuse.js';
import { parseLimits } from './proxy-fairuse.js';
import { command, flag, logFlag, type Values } from '../cli/command.js';
import { JsonLog, STOP_GRACE_MS, bannerStream, stopSignal } from '../cli/log.js';

const fail = (message: string): number => {
  process.stderr.write(`grex-harness proxy: ${message}\n`);
  return 2;
};

const PROXY_FLAGS = {
  target: flag.required('T', 'demo, prod, or a URL serving both the APIs and\nB2C (e.g. a mock standing in for DEMO); required', 'demo, prod or a URL such as http://127.0.0.1:4600'),
  port: flag.integer('N', 'port (default 4700; 0 picks a free one)', { min: 0, max: 65535, fallback: 4700 }),
  host: flag.text('H', 'address to listen on (default 127.0.0.1)', '127.0.0.1'),
  'journal-file': flag.text('F', 'also append every exchange to F (NDJSON), tokens\nand secrets redacted (claims kept)'),
  'journal-size': flag.integer('N', 'exchanges kept in memory (default 10000)', { min: 0, max: 10_000_000, fallback: 10_000 }),
  'drift-file': flag.text('F', 'write the drift report (JSON) to F on exit'),
  'fair-use': flag.onOff('hold back calls past the limits (default on)', true),
  limits: flag.text('JSON', 'the windows, default\n[{"requests":100,"windowSeconds":60},\n {"requests":500,"windowSeconds":3600}]'),
  'max-wait': flag.seconds('longest hold-back in seconds (default 120); past\nit the proxy answers 429 (x-grex-proxy: held)', { min: 0, max: 86_400, fallback: 120 }),
  timeout: flag.seconds('upstream time limit in seconds (default 30): 504', { min: 0.001, max: 3600, fallback: 30 }),
  contracts: flag.text('DIR', 'check against G-REX\'s own documents (grex-harness\ncontracts pull) instead of the reconstructed contracts'),
  log: logFlag,
};

export const proxyCommand = command({
  name: 'proxy',
  summary:
    'Sit between a client and G-REX: forward its calls, journal them as\nthe mock does, check requests and the target\'s answers against the\ncontracts (answers that disagree are contract drift), and hold back\ncalls that would break fair use.\nGET /__proxy/journal (?format=har), /__proxy/drift, /__proxy/health.',
  flags: PROXY_FLAGS,
  exits: [
    [0, 'stopped by SIGINT or SIGTERM (calls in flight finished, journal and\ndrift files written)'],
    [1, 'the drift file could not be written, or an unexpected error'],
    [2, 'usage error, or the port cannot be listened on'],
  ],
  run: (values) => runProxy(values),
});

/** `grex-harness proxy`: runs until SIGINT or SIGTERM, then writes the drift report and prints its summary. */
async function runProxy(values: Values<typeof PROXY_FLAGS>): Promise<number> {
  // Loaded here only: `grex-harness mock` starts without the proxy's HTTP client.
  const { resolveTarget, startProxy } = await import('./proxy.js');
  const target = resolveTarget(values.target);
  if (typeof target === 'string') return fail(target);
  const port = values.port;
  const maxWait = values['max-wait'];
  let limits: readonly FairUseLimit[] = MANUAL_LIMITS;
  if (values.limits !== undefined) {
    const parsed = parseLimits(values.limits);
    if (typeof parsed === 'string') return fail(parsed);
    limits = parsed;
  }

  let contracts;
  try {
    contracts = await loadServedContracts(values.contracts);
  } catch (error) {
    if (error instanceof PulledError) return fail(`--contracts ${values.contracts}: ${error.message}`);
    throw error;
  }
  let proxy;
  try {
    proxy = await startProxy({
      target,
      port,
      host: values.host,
      fairUse: values['fair-use'] ? { limits, maxWaitMs: maxWait * 1000 } : null,
      journalCapacity: values['journal-size'],
      journalFile: values['journal-file'],
      timeoutMs: values.timeout * 1000,
      contracts,
    });
  } catch (error) {
    return fail(`cannot listen on ${values.host}:${port}: ${(error as Error).message}`);
  }
  const running = proxy;
  const lines = [
    `grex-harness proxy listening on ${running.url}`,
    `Forwarding to ${target.name}: APIs ${target.api}, B2C ${target.b2c}`,
    '',
    'Point the client at the proxy (manual Appendix 1/4 variable names):',
  ];
  for (const contract of contracts.contracts) {
    if (contract.grex.postmanVariable) lines.push(`  ${contract.grex.postmanVariable.padEnd(31)} ${running.url}/${contract.grex.api}`);
  }
  const tenants = target.name === 'demo' ? TENANTS.filter((tenant) => tenant.name === 'gcrfdemo') : target.name === 'prod' ? TENANTS.filter((tenant) => tenant.name === 'gcrfr') : TENANTS;
  for (const tenant of tenants) lines.push(`  ${'B2C token endpoint'.padEnd(31)} ${running.url}/${tenant.name}.onmicrosoft.com/${tenant.policy}/oauth2/v2.0/token`);
  lines.push(
    '',
    `Fair use: ${
      running.holdBack ? `calls held back to ${limits.map((limit) => `${limit.requests} per ${limit.windowSeconds} s`).join(' and ')} per account holder, at most ${maxWait} s; longer answers 429 (x-grex-proxy: held)` : 'off (the target answers for itself)'
    }`,
    `Journal: GET ${running.url}/__proxy/journal (?format=har)${values['journal-file'] ? `, appended to ${values['journal-file']}` : ''}`,
    `Contract drift: GET ${running.url}/__proxy/drift${values['drift-file'] ? `, written to ${values['drift-file']} on exit` : ''}`,
    '',
    'Ready. Press Ctrl+C to stop.',
  );
  const log = values.log === 'json' ? new JsonLog('proxy') : undefined;
  bannerStream(log).write(`${lines.join('\n')}\n`);
  if (log) {
    log.write('start', { url: running.url, target, fairUse: running.holdBack ? { limits, maxWaitSeconds: maxWait } : null, journalFile: values['journal-file'] });
    running.journal.observe(log.exchange);
  }

  const signal = await stopSignal();
  await running.close(STOP_GRACE_MS);
  let code = 0;
  if (values['drift-file']) {
    try {
      writeFileSync(values['drift-file'], `${JSON.stringify(running.drift.report(), null, 2)}\n`);
    } catch (error) {
      process.stderr.write(`grex-harness proxy: cannot write --drift-file ${values['drift-file']}: ${(error as Error).message}\n`);
      code = 1;
    }
  }
  const { checked, drifted } = running.drift.report();
  if (log) await log.shutdown({ signal, drift: { checked, drifted }, journalFile: values['journal-file'], driftFile: values['drift-file'] });
  else process.stdout.write(`\n${running.journal.recorded} exchanges journaled.\n${running.drift.summary()}\n`);
  return code;
}
