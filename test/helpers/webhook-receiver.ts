// A real webhook receiver on 127.0.0.1 that verifies every delivery with the standardwebhooks
// library, can be taken down and brought back on the same port, or made to answer 503.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedDelivery {
  id: string;
  timestamp: string;
  body: string;
  payload: { type: string; timestamp: string; data: Record<string, unknown> } | null;
  verified: boolean;
  answered: number;
  /** The webhook-signature header as received (one `v1,` signature per live secret). */
  signature: string;
}

export class WebhookReceiver {
  readonly received: ReceivedDelivery[] = [];
  secret = '';
  mode: 'ok' | 'fail' = 'ok';
  private server: Server | null = null;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Only deliveries that verified and were accepted. */
  get accepted(): ReceivedDelivery[] {
    return this.received.filter((r) => r.answered === 204);
  }

  async start(port = this.port): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = {
          'webhook-id': String(request.headers['webhook-id'] ?? ''),
          'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
          'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
        };
        let payload: ReceivedDelivery['payload'] = null;
        let verified = false;
        try {
          payload = new Webhook(this.secret).verify(body, headers) as ReceivedDelivery['payload'];
          verified = true;
        } catch {
          verified = false;
        }
        const answered = !verified ? 400 : this.mode === 'fail' ? 503 : 204;
        this.received.push({
          id: headers['webhook-id'],
          timestamp: headers['webhook-timestamp'],
          body,
          payload,
          verified,
          answered,
          signature: headers['webhook-signature'],
        });
        response.statusCode = answered;
        response.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
