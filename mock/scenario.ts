import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SCENARIOS, ScenarioError, type ScenarioApi, type ScenarioReply } from '../fixtures/scenarios/index.js';
import type { MockApp } from './app.js';

export { ScenarioError };

/**
 * Brings a mock to a named scenario (fixtures/scenarios/) or to the state a
 * snapshot file holds (`.json`), before the mock is announced. A script runs
 * over HTTP against the mock on a private port, as its users would act; its
 * requests are kept out of the journal (and of --journal-file) and, unless
 * the scenario is about them, out of the fair-use windows, so the mock starts
 * as if it had been left in that situation. Answers what was set up, one
 * line each.
 */
export async function applyScenario(app: MockApp, name: string): Promise<string[]> {
  if (name.endsWith('.json')) return restoreFile(app, name);
  const scenario = SCENARIOS.find((candidate) => candidate.name === name);
  if (!scenario) throw new ScenarioError(`no scenario "${name}"; the scenarios are ${SCENARIOS.map((known) => known.name).join(', ')}, or give a snapshot file (.json)`);
  const server = createServer({ requireHostHeader: false }, app.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const api = scenarioApi(app, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const lines = await app.journal.unspilled(() => scenario.apply(api));
    return [`Scenario ${scenario.name}: ${scenario.summary}`, ...lines.map((line) => `  ${line}`)];
  } finally {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    app.journal.clear();
    if (!scenario.keepsFairUse) {
      app.fairUse.clear();
      app.firewall.clear();
    }
  }
}

function restoreFile(app: MockApp, file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ScenarioError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory, not a snapshot file' : (error as Error).message}`);
  }
  if (text.trim() === '') throw new ScenarioError(`${file} is empty: a scenario file is a snapshot (grex-harness snapshot save FILE)`);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    // The parser quotes the text around the fault, new lines included: kept on one line.
    throw new ScenarioError(`${file} is not JSON (${(error as Error).message.replace(/\r?\n/g, '\\n')}): a scenario file is a snapshot (grex-harness snapshot save FILE)`);
  }
  const problems = app.restore(document);
  if (problems.length) throw new ScenarioError(`${file} is not a state the mock can start from:\n  ${problems.join('\n  ')}`);
  return [`Scenario ${file}: the state of the snapshot, its clock at ${app.clock.iso()}`];
}

function scenarioApi(app: MockApp, origin: string): ScenarioApi {
  const send = async (method: string, path: string, body: unknown, token?: string): Promise<ScenarioReply> => {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'grex-harness scenario' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${origin}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, json: text ? JSON.parse(text) : undefined };
  };
  // A token per request: a scenario may move the clock, past the lifetime of a token it got before.
  const tokenOf = async (user: string): Promise<string> => {
    const reply = await send('POST', '/__admin/token', { user });
    if (reply.status !== 200) throw new ScenarioError(`no token for ${user}: ${JSON.stringify(reply.json)}`);
    return reply.json.access_token as string;
  };
  const as = async (user: string, method: string, path: string, body?: unknown): Promise<ScenarioReply> => send(method, path, body, await tokenOf(user));
  return {
    as,
    admin: (method, path, body) => send(method, path, body),
    account: (accountNumber) => app.registry.accounts.get(accountNumber),
    async ok(user, method, path, body) {
      const reply = await as(user, method, path, body);
      if (reply.status >= 300) throw new ScenarioError(`${method} ${path} as ${user} answered ${reply.status}: ${JSON.stringify(reply.json)}`);
      return reply.json;
    },
  };
}
