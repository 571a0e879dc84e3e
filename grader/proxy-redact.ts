import { createHash } from 'node:crypto';

/**
 * What the proxy journals of a real account's secrets: tokens keep what a
 * grader reads (a JWT's header and claims, and a fingerprint to tell one
 * token from another, e.g. that a rotated refresh token was used) but lose
 * what would let anyone replay them (the signature, the opaque value).
 */
const SECRET_FIELDS = new Set(['access_token', 'id_token', 'refresh_token', 'code', 'code_verifier', 'client_secret', 'client_assertion', 'password']);

const fingerprint = (secret: string): string => createHash('sha256').update(secret).digest('hex').slice(0, 12);

export function redactToken(token: string): string {
  const parts = token.split('.');
  if (parts.length === 3) return `${parts[0]}.${parts[1]}.redacted-${fingerprint(token)}`;
  return `redacted-${fingerprint(token)}`;
}

/** Node's flat `rawHeaders`, with the Authorization value's credentials redacted. */
export function redactHeaders(raw: string[]): string[] {
  const out = [...raw];
  for (let i = 0; i < out.length; i += 2) {
    if (out[i].toLowerCase() !== 'authorization') continue;
    const [scheme, ...rest] = out[i + 1].split(' ');
    out[i + 1] = `${scheme} ${redactToken(rest.join(' ').trim())}`;
  }
  return out;
}

/** A JSON or form body with its secret fields (top level: where OAuth puts them) redacted; other bodies as they are. */
export function redactBody(text: string | undefined, contentType: string | undefined): string | undefined {
  if (!text) return text;
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (mediaType === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(text);
    let changed = false;
    for (const [name, value] of form) {
      if (!SECRET_FIELDS.has(name)) continue;
      form.set(name, redactToken(value));
      changed = true;
    }
    return changed ? form.toString() : text;
  }
  if (!/^application\/(.+\+)?json$/.test(mediaType)) return text;
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return text;
    const record = value as Record<string, unknown>;
    const secrets = Object.keys(record).filter((name) => SECRET_FIELDS.has(name) && typeof record[name] === 'string');
    if (!secrets.length) return text;
    for (const name of secrets) record[name] = redactToken(record[name] as string);
    return JSON.stringify(record);
  } catch {
    return text;
  }
}
