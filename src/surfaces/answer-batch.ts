// Answers of the hot endpoints are written together, once per turn of the event loop, after
// every request that arrived in that turn has been worked out, instead of one by one as each
// is ready. The load of a mail server's auth hook is many small requests on many connections:
// written one by one, each answer lands while the client (nginx, Dovecot, a load generator) is
// asleep waiting for it and costs a wake-up and a context switch on both sides; written in a
// burst, the client wakes once and finds them all, and its next requests arrive together too.
// Redis writes its replies the same way, before it next waits for sockets.
//
// The delay is bounded by one turn: `setImmediate` runs right after the poll phase in which
// the requests were read (and their synchronous work, SQLite lookups included, was done).
import type { ServerResponse } from 'node:http';

interface PendingAnswer {
  response: ServerResponse;
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class AnswerBatch {
  private pending: PendingAnswer[] = [];

  /** `onWriteError`: an answer that could not be written (its connection is then closed). */
  constructor(private readonly onWriteError: (error: unknown) => void) {}

  get waiting(): number {
    return this.pending.length;
  }

  /** Queues a complete answer; it is written at the end of this turn of the event loop. */
  send(response: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
    headers['content-length'] = String(Buffer.byteLength(body));
    if (this.pending.length === 0) setImmediate(this.flush);
    this.pending.push({ response, status, headers, body });
  }

  private readonly flush = (): void => {
    const answers = this.pending;
    this.pending = [];
    for (const { response, status, headers, body } of answers) {
      try {
        response.writeHead(status, headers);
        response.end(body);
      } catch (error) {
        // One bad answer must not strand the others of the batch; its client gets a closed
        // connection rather than a wait for an answer that will never come.
        response.destroy();
        this.onWriteError(error);
      }
    }
  };
}
