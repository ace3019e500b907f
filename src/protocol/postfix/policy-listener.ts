// Postfix SMTP access policy delegation (check_policy_service inet:HOST:PORT): one request is
// `name=value` lines ended by an empty line; the answer is `action=...` and an empty line.
// Postfix keeps the connection open and sends the next request on it.
//
// The listener reads untrusted bytes, so everything is bounded: line length, request size and
// attribute count (past them: one DEFER_IF_PERMIT answer, then the connection closes), idle time,
// how long a decision may take (then DEFER_IF_PERMIT 4.3.0), the number of connections (more are
// closed at once), and what a client that does not read may leave unread (reading stops until it
// drains, and the idle timeout closes it). One request per connection is decided at a time.
import net from 'node:net';

export type PolicyAnswer =
  | { action: 'DUNNO' }
  | { action: 'REJECT'; status: string; reason: string }
  | { action: 'DEFER_IF_PERMIT'; status: string; reason: string };

export type PolicyRequest = ReadonlyMap<string, string>;

export interface PolicyListenerOptions {
  host: string;
  port: number;
  decide(request: PolicyRequest): Promise<PolicyAnswer>;
  maxLineBytes?: number;
  maxRequestBytes?: number;
  maxAttributes?: number;
  idleTimeoutMs?: number;
  decisionTimeoutMs?: number;
  maxConnections?: number;
  /** Called for each answer given (metrics); never with message contents. */
  onAnswer?(answer: PolicyAnswer, request: PolicyRequest | null): void;
  onError?(error: unknown): void;
}

export interface PolicyListener {
  port: number;
  connections(): number;
  close(): Promise<void>;
}

const NEWLINE = 0x0a;

/** Printable ASCII only, short: a reason goes into an SMTP reply line. */
function replyText(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
}

export function formatAnswer(answer: PolicyAnswer): string {
  if (answer.action === 'DUNNO') return 'action=DUNNO\n\n';
  return `action=${answer.action} ${answer.status} ${replyText(answer.reason)}\n\n`;
}

export const MALFORMED: PolicyAnswer = { action: 'DEFER_IF_PERMIT', status: '4.3.0', reason: 'malformed policy request' };
export const UNAVAILABLE: PolicyAnswer = { action: 'DEFER_IF_PERMIT', status: '4.3.0', reason: 'sending policy temporarily unavailable' };

export async function startPolicyListener(options: PolicyListenerOptions): Promise<PolicyListener> {
  const maxLine = options.maxLineBytes ?? 8192;
  const maxRequest = options.maxRequestBytes ?? 65_536;
  const maxAttributes = options.maxAttributes ?? 128;
  const idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
  const decisionTimeoutMs = options.decisionTimeoutMs ?? 5_000;
  const sockets = new Set<net.Socket>();

  const decide = (request: PolicyRequest): Promise<PolicyAnswer> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve(UNAVAILABLE), decisionTimeoutMs);
      timer.unref();
      options.decide(request).then(
        (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
        (error: unknown) => {
          clearTimeout(timer);
          options.onError?.(error);
          resolve(UNAVAILABLE);
        },
      );
    });

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(idleTimeoutMs, () => socket.destroy());
    socket.setNoDelay(true);
    let buffer: Buffer = Buffer.alloc(0);
    let attributes = new Map<string, string>();
    let requestBytes = 0;
    let busy = false;
    let closed = false;

    const fail = (answer: PolicyAnswer) => {
      if (closed) return;
      closed = true;
      options.onAnswer?.(answer, null);
      socket.end(formatAnswer(answer));
      // A peer that never reads does not keep the socket: it goes after a short while regardless.
      setTimeout(() => socket.destroy(), 1000).unref();
    };

    const answer = async (request: PolicyRequest) => {
      busy = true;
      socket.pause();
      const result = await decide(request);
      if (closed || socket.destroyed) return;
      options.onAnswer?.(result, request);
      const flushed = socket.write(formatAnswer(result));
      busy = false;
      const resume = () => {
        if (closed || socket.destroyed) return;
        socket.resume();
        drain();
      };
      if (flushed) resume();
      else socket.once('drain', resume);
    };

    /** Takes complete lines from the buffer until a request is complete or the buffer is empty. */
    const drain = () => {
      while (!busy && !closed) {
        const end = buffer.indexOf(NEWLINE);
        if (end < 0) {
          if (buffer.length > maxLine) fail(MALFORMED);
          return;
        }
        if (end > maxLine) return fail(MALFORMED);
        let line = buffer.subarray(0, end).toString('utf8');
        buffer = buffer.subarray(end + 1);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (line === '') {
          const request = attributes;
          attributes = new Map();
          requestBytes = 0;
          if (request.size === 0) continue; // stray blank lines: nothing asked
          void answer(request);
          return;
        }
        requestBytes += end + 1;
        const eq = line.indexOf('=');
        if (eq <= 0 || requestBytes > maxRequest || attributes.size >= maxAttributes) return fail(MALFORMED);
        attributes.set(line.slice(0, eq), line.slice(eq + 1));
      }
    };

    socket.on('data', (chunk: Buffer) => {
      if (closed) return;
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      // Bytes beyond one request's bound can never be valid: refuse before holding more of them.
      if (buffer.length > maxRequest + maxLine) {
        if (!busy) drain();
        if (buffer.length > maxRequest + maxLine) fail(MALFORMED);
        return;
      }
      drain();
    });
  });
  server.maxConnections = options.maxConnections ?? 1000;
  server.on('error', (error) => options.onError?.(error));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    connections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
