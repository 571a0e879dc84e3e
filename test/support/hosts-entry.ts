import dns from 'node:dns';

/**
 * A hosts-file entry for one process, without editing /etc/hosts: preloaded
 * with `node --import`, it answers 127.0.0.1 for the names in
 * GREX_HOSTS_ENTRY (comma-separated) at DNS lookup, as the line
 * `127.0.0.1 name...` in the hosts file would, and leaves every other name to
 * the resolver. Clients see the real host names everywhere else (URLs, TLS
 * server names, Host headers), so nothing of the client is changed for the mock.
 */
const names = new Set((process.env.GREX_HOSTS_ENTRY ?? '').split(',').map((name) => name.trim().toLowerCase()).filter(Boolean));

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;
const resolverLookup = dns.lookup.bind(dns) as (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => void;

function hostsLookup(hostname: string, options: number | dns.LookupOptions | LookupCallback, callback?: LookupCallback): void {
  const done = (typeof options === 'function' ? options : callback) as LookupCallback;
  const settings: dns.LookupOptions = typeof options === 'function' ? {} : typeof options === 'number' ? { family: options } : options;
  if (!names.has(hostname.toLowerCase())) return resolverLookup(hostname, settings, done);
  if (settings.all) process.nextTick(done, null, [{ address: '127.0.0.1', family: 4 }]);
  else process.nextTick(done, null, '127.0.0.1', 4);
}

(dns as { lookup: unknown }).lookup = hostsLookup;
