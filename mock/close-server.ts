import type { Server } from 'node:http';

/**
 * Stops taking connections and lets the answers under way finish (a write
 * waiting out its latency, a call held back by the proxy) for at most
 * `graceMs`, then closes what is left: every answered request is journaled
 * before the journal file is flushed.
 */
export function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    if (graceMs <= 0) server.closeAllConnections();
    else setTimeout(() => server.closeAllConnections(), graceMs).unref();
  });
}
