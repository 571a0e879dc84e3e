import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadContracts } from '../contracts/lib/load.js';
import { ROOT, runCli, startCliMock, type StartedMock } from './support/cli.js';

const set = loadContracts();
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
let mock: StartedMock;

before(async () => {
  mock = await startCliMock();
});
after(() => mock?.stop());

describe('grex-harness mock: start-up', () => {
  it('prints the base URIs under the manual Postman variable names, and each documentation page', () => {
    for (const contract of set.contracts) {
      if (contract.grex.postmanVariable) {
        assert.match(mock.banner, new RegExp(`${contract.grex.postmanVariable}\\s+${mock.url}/${contract.grex.api}\\n`));
      }
    }
    assert.match(mock.banner, /\/managementapi\/v2\//);
    assert.match(mock.banner, /ready in \d+ ms/);
  });

  it('refuses a port that is not a number, with a clear line and exit code 2', () => {
    const result = runCli(['mock', '--port', 'abc']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--port must be an integer/);
  });
});

describe('documentation pages, as G-REX serves them (manual chapter 5)', () => {
  for (const contract of set.contracts) {
    const root = contract.grex.api === 'b2c' ? '/__docs/b2c/' : `/${contract.grex.api}/${contract.grex.version}/`;

    it(`${contract.name}: Swagger UI at ${root}, swagger.json beside it`, async () => {
      const page = await fetch(`${mock.url}${root}`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /text\/html/);
      const html = await page.text();
      assert.match(html, /swagger-ui-bundle\.js/);
      assert.match(html, /url: '\.\/swagger\.json'/);
      assert.doesNotMatch(html, /https?:\/\/(?!127\.0\.0\.1)/, 'the page loads nothing from the network');

      const json = await fetch(`${mock.url}${root}swagger.json`);
      assert.equal(json.status, 200);
      assert.match(json.headers.get('content-type') ?? '', /application\/json/);
      const served = await json.json();
      // The Authorize dialog shows the bearer scheme's description: the contract's, then how to get a token from this mock.
      for (const [name, scheme] of Object.entries((served.components?.securitySchemes ?? {}) as Record<string, { description: string }>)) {
        const own = String(contract.doc.components?.securitySchemes?.[name]?.description);
        assert.ok(scheme.description.startsWith(own), scheme.description);
        assert.match(scheme.description.slice(own.length), /\*\*On this grex-harness mock\.\*\* Without a browser: .*\/__admin\/token/);
        scheme.description = own;
      }
      assert.deepEqual({ ...served, servers: undefined }, { ...contract.doc, servers: undefined }, 'swagger.json is the bundled contract');
      assert.equal(served.info.version, VERSION, "info.version is the release, package.json's version");
      assert.equal(served.info['x-grex'].version, contract.grex.version, "the API's own version stays in x-grex");
      assert.ok(served.servers[0].url.startsWith(mock.url), `first server is the mock: ${served.servers[0].url}`);
      assert.equal(served.servers.length, contract.doc.servers?.length);
    });
  }

  it('redirects the page without its trailing slash, as a browser expects', async () => {
    const response = await fetch(`${mock.url}/managementapi/v2`, { redirect: 'manual' });
    assert.equal(response.status, 301);
    assert.equal(response.headers.get('location'), '/managementapi/v2/');
  });

  it('serves the Swagger UI assets from the package, offline', async () => {
    for (const [asset, type] of [
      ['swagger-ui-bundle.js', /javascript/],
      ['swagger-ui.css', /css/],
    ] as const) {
      const response = await fetch(`${mock.url}/transactionapi/v1/${asset}`);
      assert.equal(response.status, 200, asset);
      assert.match(response.headers.get('content-type') ?? '', type);
      assert.ok((await response.arrayBuffer()).byteLength > 10_000, `${asset} has content`);
    }
  });

  it('answers HEAD without a body', async () => {
    const response = await fetch(`${mock.url}/masterdataapi/v2/swagger.json`, { method: 'HEAD' });
    assert.equal(response.status, 200);
    assert.ok(Number(response.headers.get('content-length')) > 1000);
    assert.equal(await response.text(), '');
  });

  it('lists every API at /__docs/', async () => {
    const html = await (await fetch(`${mock.url}/__docs/`)).text();
    for (const contract of set.contracts) assert.ok(html.includes(contract.doc.info.title), contract.doc.info.title);
  });

  it('answers 404 JSON, not a crash, to unknown paths and to other files under a docs folder', async () => {
    for (const path of ['/nothing', '/managementapi/v2/../../etc/passwd', '/managementapi/v2/package.json', '/managementapi/v9/']) {
      const response = await fetch(`${mock.url}${path}`);
      assert.equal(response.status, 404, path);
      assert.match(response.headers.get('content-type') ?? '', /application\/json/);
      assert.equal((await response.json()).statusCode, 404);
    }
  });
});

describe('grex-harness codes', () => {
  it('prints the catalogue as a table, with every manual ACCOUNT code', () => {
    const result = runCli(['codes']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^code\s+HTTP\s+source/);
    assert.match(result.stdout, /ACCOUNT_008\s+400\s+manual\s+management/);
    assert.match(result.stdout, /\d+ codes \(11 verbatim from the manual\)/);
  });

  it('prints JSON that lists each code with its status, message, source and users', () => {
    const result = runCli(['codes', '--format', 'json']);
    assert.equal(result.status, 0, result.stderr);
    const codes = JSON.parse(result.stdout) as { code: string; status: number; usedBy: string[] }[];
    const account202 = codes.find((entry) => entry.code === 'ACCOUNT_202');
    assert.equal(account202?.status, 200);
    assert.ok(account202?.usedBy.some((use) => use.endsWith(' 200')));
    assert.equal(new Set(codes.map((entry) => entry.code)).size, codes.length, 'each code once');
  });

  it('refuses an unknown format', () => {
    const result = runCli(['codes', '--format', 'xml']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--format must be/);
  });
});

describe('grex-harness help', () => {
  it('documents every command', () => {
    const result = runCli(['--help']);
    assert.equal(result.status, 0);
    for (const command of ['mock', 'codes', 'postman']) assert.match(result.stdout, new RegExp(`^  ${command}\\s`, 'm'));
  });

  it('exits 2 on an unknown command', () => {
    const result = runCli(['frobnicate']);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /unknown command "frobnicate"/);
  });
});

describe('grex-harness mock --clock', () => {
  it('starts the clock where asked, and refuses what is not an instant', async () => {
    const started = await startCliMock(['--clock', '2027-03-01T12:00:00Z']);
    try {
      const clock = (await (await fetch(`${started.url}/__admin/clock`)).json()) as { now: string };
      assert.match(clock.now, /^2027-03-01T12:00:0/);
      await fetch(`${started.url}/__admin/reset`, { method: 'POST' });
      assert.match(((await (await fetch(`${started.url}/__admin/clock`)).json()) as { now: string }).now, /^2027-03-01T12:00:0/, 'reset returns there');
    } finally {
      await started.stop();
    }
    const refused = runCli(['mock', '--clock', 'yesterday']);
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /--clock must be/);
  });
});

describe('grex-harness mock: firewall and fair-use settings', () => {
  it('takes the profile and switches from flags and a settings file, and shows them at /__admin', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const file = join(mkdtempSync(join(tmpdir(), 'grex-config-')), 'settings.json');
    writeFileSync(file, JSON.stringify({ fairUse: { limits: [{ requests: 5, windowSeconds: 60 }], blockSeconds: 120 }, firewall: { blockAfter: 3 } }));
    const started = await startCliMock(['--firewall', 'strict', '--firewall-header', 'off', '--config', file]);
    try {
      assert.match(started.banner, /Firewall: strict; fair use: 5 per 60 s/);
      const firewall = (await (await fetch(`${started.url}/__admin/firewall`)).json()) as { config: { profile: string; diagnostics: boolean; blockAfter: number } };
      assert.deepEqual([firewall.config.profile, firewall.config.diagnostics, firewall.config.blockAfter], ['strict', false, 3]);
      const fairUse = (await (await fetch(`${started.url}/__admin/fairuse`)).json()) as { config: { limits: unknown; blockSeconds: number } };
      assert.deepEqual(fairUse.config.limits, [{ requests: 5, windowSeconds: 60 }]);
      assert.equal(fairUse.config.blockSeconds, 120);
    } finally {
      await started.stop();
    }
    for (const args of [['--firewall', 'lenient'], ['--fair-use', 'maybe']]) {
      const refused = runCli(['mock', ...args]);
      assert.equal(refused.status, 2, args.join(' '));
      assert.match(refused.stderr, /must be/);
    }
    writeFileSync(file, JSON.stringify({ fairUse: { limits: [{ requests: 0, windowSeconds: 60 }] } }));
    const bad = runCli(['mock', '--port', '0', '--config', file]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /limits must be/);
  });
});

describe('the README names what the code has', () => {
  it('every x-grex-* header a README describes is one the harness sends or reads', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { ROOT } = await import('./support/cli.js');
    const readmes = ['README.md', 'contracts/README.md', 'fixtures/README.md', 'fixtures/clients/README.md', 'load/README.md'].map((file) => readFileSync(join(ROOT, file), 'utf8'));
    const named = new Set(readmes.flatMap((text) => text.match(/x-grex-[a-z-]*[a-z]/g) ?? []));
    assert.ok(named.has('x-grex-firewall-rule'), [...named].join(', '));
    const code = ['mock', 'grader', 'cli', 'contracts', 'suites', 'scripts', 'fixtures']
      .flatMap((dir) => readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts')).map((file) => join(ROOT, dir, file)))
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    for (const name of named) assert.ok(code.includes(name), `the README describes ${name}, which no code sends or reads`);
  });
});
