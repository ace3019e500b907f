// A Postfix-like policy delegation client over real TCP: name=value lines, an empty line, and
// one `action=...` answer ended by an empty line.
import type net from 'node:net';
import { connectText, type Take } from './text-socket.js';

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
  const connection = await connectText(port, host);
  // An answer: `action=...` lines ended by an empty line.
  const answer: Take<string> = (unread) => {
    const end = unread.indexOf('\n\n');
    return end < 0 ? null : { value: unread.slice(0, end).replace(/^action=/, ''), length: end + 2 };
  };
  return {
    socket: connection.socket,
    ask(attributes) {
      connection.write(
        `${Object.entries(attributes)
          .map(([k, v]) => `${k}=${v}\n`)
          .join('')}\n`,
      );
      return connection.next(answer);
    },
    received: connection.received,
    closed: connection.closed,
    close: connection.close,
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
