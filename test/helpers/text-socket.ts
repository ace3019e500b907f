// A TCP client for line protocols (SMTP, IMAP, POP3, Postfix policy delegation): it keeps what
// the server sent and hands out one complete unit at a time (a reply, an answer) as it arrives.
import net from 'node:net';

/** A complete unit at the start of the unread text (`length`: the characters it takes), or null to wait for more. */
export type Take<T> = (unread: string) => { value: T; length: number } | null;

export interface TextSocket {
  socket: net.Socket;
  write(text: string): void;
  /** Resolves with the next unit `take` finds; rejects if the server closes the connection first. */
  next<T>(take: Take<T>): Promise<T>;
  /** Every character received so far. */
  received(): string;
  /** Resolves when the connection is closed. */
  closed: Promise<void>;
  close(): void;
}

export async function connectText(port: number, host = '127.0.0.1'): Promise<TextSocket> {
  const socket = net.connect({ port, host });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  socket.setEncoding('utf8');
  let text = '';
  let consumed = 0;
  let waiting: (() => void) | null = null;
  socket.on('data', (chunk: string) => {
    text += chunk;
    waiting?.();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    write: (data) => socket.write(data),
    async next<T>(take: Take<T>): Promise<T> {
      for (;;) {
        const found = take(text.slice(consumed));
        if (found) {
          consumed += found.length;
          return found.value;
        }
        if (socket.destroyed) throw new Error(`connection closed; received ${JSON.stringify(text)}`);
        await Promise.race([new Promise<void>((resolve) => (waiting = resolve)), closed]);
      }
    },
    received: () => text,
    closed,
    close: () => socket.destroy(),
  };
}

/** One CRLF- or LF-ended line, without its ending. */
export const line: Take<string> = (unread) => {
  const end = unread.indexOf('\n');
  return end < 0 ? null : { value: unread.slice(0, end).replace(/\r$/, ''), length: end + 1 };
};

/** Lines until one that `last` accepts; resolves with that one. */
export async function lineMatching(connection: TextSocket, last: (text: string) => boolean): Promise<string> {
  for (;;) {
    const text = await connection.next(line);
    if (last(text)) return text;
  }
}
