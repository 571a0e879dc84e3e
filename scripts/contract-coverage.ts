import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { loadContracts } from '../contracts/lib/load.js';
import { deref, operations } from '../contracts/lib/operations.js';
import type { JsonObject } from '../contracts/lib/types.js';

/**
 * Which documented answers did the tests really provoke? Reads the journals
 * the test mocks spilled (reports/coverage/*.ndjson) and lists, for every
 * G-REX operation, each documented (status, code) pair never answered.
 * The same answers of every operation are not counted: fair-use 429s (the
 * shared stage, tested in fairuse.test.ts), the firewall's HTML 403
 * (firewall.test.ts) and 500s (fault injection comes with the suites issue).
 * Exit 1 with --strict when a pair is missing.
 * Usage: contract-coverage [--dir reports/coverage] [--strict]
 */
const OUT_OF_SCOPE = new Set(['429', '500']);
const { values } = parseArgs({ options: { dir: { type: 'string', default: join(process.cwd(), 'reports', 'coverage') }, strict: { type: 'boolean', default: false } } });
const dir = values.dir as string;
const strict = values.strict === true;

function documented(): Map<string, Set<string>> {
  const expected = new Map<string, Set<string>>();
  for (const contract of loadContracts().contracts) {
    if (contract.grex.api === 'b2c') continue;
    for (const { operation } of operations(contract.doc)) {
      const pairs = new Set<string>();
      for (const [status, reference] of Object.entries(operation.responses ?? {})) {
        if (OUT_OF_SCOPE.has(status)) continue;
        const content = (deref<JsonObject>(contract.doc, reference).content as Record<string, JsonObject> | undefined) ?? {};
        const json = content['application/json'];
        const codes = Object.values((json?.examples as Record<string, JsonObject>) ?? {})
          .map((example) => (deref<JsonObject>(contract.doc, example).value as JsonObject | undefined)?.responseCode)
          .filter((code): code is string => typeof code === 'string');
        if (codes.length) for (const code of codes) pairs.add(`${status} ${code}`);
        else if (json || !content['text/html']) pairs.add(status);
      }
      expected.set(String(operation.operationId), pairs);
    }
  }
  return expected;
}

async function observed(): Promise<Map<string, Set<string>>> {
  const seen = new Map<string, Set<string>>();
  if (!existsSync(dir)) return seen;
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.ndjson'))) {
    for await (const line of createInterface({ input: createReadStream(join(dir, file)) })) {
      if (!line) continue;
      const exchange = JSON.parse(line) as { operationId?: string; response: { status: number; body?: string }; decisions?: { code?: string }[] };
      // An answer bent by a test-only fault proves nothing about the mock.
      if (!exchange.operationId || exchange.decisions?.some((decision) => decision.code === 'FAULT')) continue;
      const code = /"responseCode":"([A-Z]+_[0-9]{3})"/.exec(exchange.response.body ?? '')?.[1];
      let pairs = seen.get(exchange.operationId);
      if (!pairs) seen.set(exchange.operationId, (pairs = new Set()));
      pairs.add(String(exchange.response.status));
      if (code) pairs.add(`${exchange.response.status} ${code}`);
    }
  }
  return seen;
}

const expected = documented();
const seen = await observed();
let total = 0;
const missing: string[] = [];
for (const [operationId, pairs] of expected) {
  for (const pair of pairs) {
    total++;
    if (!seen.get(operationId)?.has(pair)) missing.push(`${operationId} ${pair}`);
  }
}
process.stdout.write(`contract coverage: ${total - missing.length} of ${total} documented (operation, answer) pairs exercised by the tests\n`);
if (missing.length) process.stdout.write(`never answered:\n${missing.map((pair) => `  ${pair}`).join('\n')}\n`);
process.exitCode = strict && missing.length ? 1 : 0;
