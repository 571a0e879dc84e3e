/**
 * Content negotiation on the Accept header (RFC 9110 12.5.1), one way for
 * the whole mock: each offered media type takes the quality of the most
 * specific range that matches it (`application/json`, then `application/*`,
 * then `*\/*`); the best quality wins, then the more specific match, then the
 * earlier offer. ASP.NET picks its formatters the same way, JSON first.
 */
export function preferredMediaType(accept: string | string[] | undefined, offers: readonly string[]): string | null {
  const header = Array.isArray(accept) ? accept.join(',') : (accept ?? '');
  if (!header.trim()) return offers[0] ?? null;
  const ranges = header.split(',').map((part) => {
    const [range, ...parameters] = part.split(';').map((piece) => piece.trim().toLowerCase());
    const q = parameters.find((parameter) => parameter.startsWith('q='));
    const quality = q ? Number(q.slice(2)) : 1;
    return { range, q: Number.isFinite(quality) ? quality : 0 };
  });
  let best: { offer: string; q: number; specificity: number } | null = null;
  for (const offer of offers) {
    const [type] = offer.split('/');
    for (const [specificity, range] of [[2, offer], [1, `${type}/*`], [0, '*/*']] as const) {
      const hit = ranges.find((candidate) => candidate.range === range);
      if (!hit) continue;
      if (hit.q > 0 && (!best || hit.q > best.q || (hit.q === best.q && specificity > best.specificity))) best = { offer, q: hit.q, specificity };
      break;
    }
  }
  return best?.offer ?? null;
}
