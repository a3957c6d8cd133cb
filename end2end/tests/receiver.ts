import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What reached a receiver: the headers and the body of one POST. */
export type Received = { headers: http.IncomingHttpHeaders; body: string };

/**
 * A webhook receiver on loopback: its URL, what reached it, and the status it answers with
 * (changed with `answer`). Closed with `close`.
 */
export async function receiver(status = 200) {
  const got: Received[] = [];
  let answer = status;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    got,
    answer: (s: number) => (answer = s),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
