import { randomFillSync } from 'node:crypto';

const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Random bytes for 256 ids at a time, as Node's randomUUID keeps them. */
const pool = Buffer.alloc(16 * 256);
let used = pool.length;
const text = Buffer.alloc(36);

/**
 * A random (version 4) UUID as one flat string. Node's randomUUID builds its
 * answer from 20 pieces, which V8 keeps as a tree of about 490 bytes; the
 * registry keeps two ids per transfer for good, and copying those trees was
 * a visible part of garbage collection under write load. This one is 52 bytes.
 */
export function uuid(): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  let at = 0;
  for (let i = 0; i < 16; i++) {
    let byte = pool[used + i];
    if (i === 6) byte = (byte & 0x0f) | 0x40;
    else if (i === 8) byte = (byte & 0x3f) | 0x80;
    if (i === 4 || i === 6 || i === 8 || i === 10) text[at++] = 0x2d;
    text[at++] = HEX[byte >> 4];
    text[at++] = HEX[byte & 0x0f];
  }
  used += 16;
  return text.toString('latin1');
}
