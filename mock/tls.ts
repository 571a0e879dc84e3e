import { X509Certificate } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { CACHE_DIR } from '../contracts/lib/cache.js';
import { TENANTS } from './app.js';
import { b2cHost } from './identity.js';

/**
 * Hosts mode: the mock answers HTTPS for the real host names, so a client
 * pointed at it by a hosts-file entry only has to trust one certificate
 * authority. The authority is made once per installation (kept in the cache);
 * the server certificate is made again whenever its names or dates do not fit.
 */
export const HOST_NAMES = [...TENANTS.flatMap((tenant) => [tenant.apiHost, b2cHost(tenant)]), 'localhost'];

export interface TlsFiles {
  key: string;
  cert: string;
  ca: string;
  /** Where the authority's certificate is, for the user to trust. */
  caFile: string;
}

const DAY_MS = 86_400_000;
const TLS_DIR = join(CACHE_DIR, 'tls');

function read(name: string): string | undefined {
  try {
    return readFileSync(join(TLS_DIR, name), 'utf8');
  } catch {
    return undefined;
  }
}

function usable(cert: string | undefined, names: string[]): boolean {
  if (!cert) return false;
  const x509 = new X509Certificate(cert);
  const alt = x509.subjectAltName ?? '';
  return Date.parse(x509.validTo) > Date.now() + 7 * DAY_MS && names.every((name) => alt.includes(`DNS:${name}`));
}

/** A lock older than this was left by a process that died holding it. */
const STALE_LOCK_MS = 60_000;

/**
 * Runs `work` while no other process does: the first start on a fresh cache
 * makes the authority, and two mocks started at once (parallel tests, a CI
 * job's first steps) made two, one of them serving a certificate that the
 * ca.pem it printed had not signed.
 */
async function exclusively<T>(work: () => Promise<T>): Promise<T> {
  const lock = join(TLS_DIR, '.lock');
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
      } catch {
        // Released meanwhile.
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true });
  }
}

export async function hostsModeCertificates(names: string[] = HOST_NAMES): Promise<TlsFiles> {
  mkdirSync(TLS_DIR, { recursive: true, mode: 0o700 });
  return exclusively(() => certificates(names));
}

async function certificates(names: string[]): Promise<TlsFiles> {
  let ca = read('ca.pem');
  let caKey = read('ca-key.pem');
  if (!ca || !caKey || !usable(ca, [])) {
    const made = await generate([{ name: 'commonName', value: 'grex-harness local CA' }, { name: 'organizationName', value: 'grex-harness' }], {
      keySize: 2048,
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 825 * DAY_MS),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    });
    ca = made.cert;
    caKey = made.private;
    writeFileSync(join(TLS_DIR, 'ca.pem'), ca);
    writeFileSync(join(TLS_DIR, 'ca-key.pem'), caKey, { mode: 0o600 });
  }
  let cert = read('server.pem') ?? '';
  let key = read('server-key.pem');
  if (!key || !usable(cert, names)) {
    const made = await generate([{ name: 'commonName', value: names[0] }], {
      keySize: 2048,
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 390 * DAY_MS),
      ca: { key: caKey, cert: ca },
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [...names.map((value) => ({ type: 2 as const, value })), { type: 7 as const, ip: '127.0.0.1' }] },
      ],
    });
    cert = made.cert;
    key = made.private;
    writeFileSync(join(TLS_DIR, 'server.pem'), cert);
    writeFileSync(join(TLS_DIR, 'server-key.pem'), key, { mode: 0o600 });
  }
  return { key, cert, ca, caFile: join(TLS_DIR, 'ca.pem') };
}
