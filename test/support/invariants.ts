import assert from 'node:assert/strict';
import { certificateId, certificateSerial, type CertificateBundle, type Transaction } from '../../mock/domain/model.js';

/** Every item of a collection as a fixture user, page by page (a TestMock's `readAll`, or the same over another mock). */
export type ReadAll = (username: string, path: string) => Promise<any[]>;

/**
 * The registry's two invariants, read over HTTP as an issuing body would:
 * every issuance's volume is conserved across the bundles it was split into,
 * and no certificate id is in two bundles.
 */
export async function checkInvariants(readAll: ReadAll): Promise<{ bundles: number; issuances: number }> {
  const bundles: CertificateBundle[] = await readAll('ib-root', '/privatereportsapi/IB/privatereportsapi/Certificates');
  const issuances: Transaction[] = await readAll('ib-root', `/transactionapi/IB/transactionapi/Transactions?$filter=${encodeURIComponent("type eq 'Issuance'")}`);
  const spans = bundles
    .map((bundle) => ({ bundle, start: certificateSerial(bundle.startCertificateId) as number, end: certificateSerial(bundle.endCertificateId) as number }))
    .sort((a, b) => a.start - b.start);
  for (let i = 0; i < spans.length; i++) {
    assert.equal(spans[i].bundle.volumeMWh, spans[i].end - spans[i].start + 1, `bundle ${spans[i].bundle.bundleId} volume matches its range`);
    if (i > 0) assert.ok(spans[i].start > spans[i - 1].end, `certificate ${certificateId(spans[i].start)} is in two bundles`);
  }
  for (const issuance of issuances) {
    for (const range of issuance.bundles) {
      const start = certificateSerial(range.startCertificateId) as number;
      const end = certificateSerial(range.endCertificateId) as number;
      const inside = spans.filter((span) => span.start >= start && span.end <= end);
      const volume = inside.reduce((sum, span) => sum + span.bundle.volumeMWh, 0);
      assert.equal(volume, end - start + 1, `issuance ${issuance.transactionId} conserves its volume`);
      assert.equal(new Set(inside.map((span) => span.bundle.issuanceId)).size, 1, `the parts of ${issuance.transactionId} keep one issuance id`);
    }
  }
  return { bundles: bundles.length, issuances: issuances.length };
}
