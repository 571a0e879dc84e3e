import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PulledError } from '../contracts/lib/pulled.js';
import { loadServedContracts } from '../contracts/lib/served.js';
import { TENANTS } from '../mock/app.js';
import { resolveTarget, startProxy } from './proxy.js';
import { MANUAL_LIMITS, type FairUseLimit } from '../mock/fairuse.js';
import { parseLimits } from './proxy-fairuse.js';

const fail = (message: string): number => {
  process.stderr.write(`grex-harness proxy: ${message}\n`);
  return 2;
};

/** `grex-harness proxy`: runs until SIGINT or SIGTERM, then writes the drift report and prints its summary. */
export async function proxyCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        target: { type: 'string' },
        port: { type: 'string', default: '4700' },
        host: { type: 'string', default: '127.0.0.1' },
        'journal-file': { type: 'string' },
        'journal-size': { type: 'string', default: '10000' },
        'drift-file': { type: 'string' },
        'fair-use': { type: 'string', default: 'on' },
        limits: { type: 'string' },
        'max-wait': { type: 'string', default: '120' },
        timeout: { type: 'string', default: '30' },
        contracts: { type: 'string' },
      },
    }));
  } catch (error) {
    return fail((error as Error).message);
  }
  if (!values.target) return fail('--target is required: demo, prod or a URL such as http://127.0.0.1:4600');
  const target = resolveTarget(values.target);
  if (typeof target === 'string') return fail(target);
  const number = (text: string, min: number, max: number, integer: boolean): number | null => {
    const value = Number(text);
    return text.trim() !== '' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value)) ? value : null;
  };
  const port = number(values.port, 0, 65535, true);
  if (port === null) return fail(`--port must be an integer from 0 to 65535, got "${values.port}"`);
  const journalSize = number(values['journal-size'], 0, 10_000_000, true);
  if (journalSize === null) return fail(`--journal-size must be an integer from 0 to 10000000, got "${values['journal-size']}"`);
  const maxWait = number(values['max-wait'], 0, 86_400, false);
  if (maxWait === null) return fail(`--max-wait must be a number of seconds from 0 to 86400, got "${values['max-wait']}"`);
  const timeout = number(values.timeout, 0.001, 3600, false);
  if (timeout === null) return fail(`--timeout must be a number of seconds above 0, got "${values.timeout}"`);
  if (values['fair-use'] !== 'on' && values['fair-use'] !== 'off') return fail(`--fair-use must be on or off, got "${values['fair-use']}"`);
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
      fairUse: values['fair-use'] === 'on' ? { limits, maxWaitMs: maxWait * 1000 } : null,
      journalCapacity: journalSize,
      journalFile: values['journal-file'],
      timeoutMs: timeout * 1000,
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
  process.stdout.write(`${lines.join('\n')}\n`);

  const stop = (): void => {
    void (async () => {
      await running.close();
      let code = 0;
      if (values['drift-file']) {
        try {
          writeFileSync(values['drift-file'], `${JSON.stringify(running.drift.report(), null, 2)}\n`);
        } catch (error) {
          process.stderr.write(`grex-harness proxy: cannot write --drift-file ${values['drift-file']}: ${(error as Error).message}\n`);
          code = 1;
        }
      }
      process.stdout.write(`\n${running.journal.recorded} exchanges journaled.\n${running.drift.summary()}\n`);
      process.exit(code);
    })();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise<number>(() => undefined);
}
