// A Postfix-like policy delegation client over real TCP: name=value lines, an empty line, and
// one `action=...` answer ended by an empty line.
import net from 'node:net';

export interface PolicyConnection {
  socket: net.Socket;
  /** Sends one request and waits for its answer (the action line, without "action="). */
  ask(attributes: Record<string, string>): Promise<string>;
  /** Every byte received so far. */
  received(): string;
  /** Resolves when the server closes the connection. */
  closed: Promise<void>;
  close(): void;
}

export async function connectPolicy(port: number, host = '127.0.0.1'): Promise<PolicyConnection> {
  const socket = net.connect({ port, host });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  let text = '';
  let waiting: (() => void) | null = null;
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    waiting?.();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let consumed = 0;
  const nextAnswer = async (): Promise<string> => {
    for (;;) {
      const end = text.indexOf('\n\n', consumed);
      if (end >= 0) {
        const answer = text.slice(consumed, end);
        consumed = end + 2;
        return answer.replace(/^action=/, '');
      }
      if (socket.destroyed) throw new Error(`connection closed; received ${JSON.stringify(text)}`);
      await Promise.race([new Promise<void>((resolve) => (waiting = resolve)), closed]);
    }
  };
  return {
    socket,
    ask(attributes) {
      socket.write(
        `${Object.entries(attributes)
          .map(([k, v]) => `${k}=${v}\n`)
          .join('')}\n`,
      );
      return nextAnswer();
    },
    received: () => text,
    closed,
    close: () => socket.destroy(),
  };
}

/** The attributes Postfix sends at RCPT time for an authenticated client. */
export function rcptRequest(
  identity: string,
  sender: string,
  recipient = 'someone@elsewhere.test',
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    request: 'smtpd_access_policy',
    protocol_state: 'RCPT',
    protocol_name: 'ESMTP',
    client_address: '127.0.0.1',
    client_name: 'localhost',
    helo_name: 'client.test',
    sender,
    recipient,
    recipient_count: '0',
    queue_id: '',
    instance: `${Math.random().toString(16).slice(2)}.1`,
    size: '0',
    sasl_method: 'PLAIN',
    sasl_username: identity,
    sasl_sender: '',
    ...extra,
  };
}
