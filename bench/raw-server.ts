import { createServer } from 'node:http';

/**
 * The baseline: the least a node:http JSON server can do for the same two
 * requests (a GET answering one account, a POST reading a body and answering
 * an envelope), with no routing, auth, validation, domain or journal.
 */
const account = JSON.stringify({
  accountNumber: '643001000000000012',
  name: 'Trading account',
  organizationId: '3fa85f64-5717-4562-b3fc-2c963f66afa6',
  standardAssociation: 'EECS-GO',
  parentAccountNumber: null,
  isDefault: false,
  isLocked: false,
  isIssuingAccount: false,
  status: 'Active',
  createdAt: '2024-01-15T09:30:00Z',
});
const created = JSON.stringify({ statusCode: 201, responseCode: 'TRANSACTION_201', responseMessage: 'The transaction was created successfully. Transaction id: 3fa85f64-5717-4562-b3fc-2c963f66afa6.' });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const post = req.method === 'POST';
    if (post) JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const body = post ? created : account;
    res.writeHead(post ? 201 : 200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write('listening\n'));
