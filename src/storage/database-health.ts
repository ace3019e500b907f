// The database's state as this node sees it: ok, or the fault that stops it (storage/faults.ts).
// Every query reports here (observed-dialect.ts); listeners hear only changes of state, so an
// outage is logged once when it starts and once when it ends, not once per request.
import type { DatabaseFaultCode } from '../errors.js';
import { toDatabaseFault } from './faults.js';

export type DatabaseState = 'ok' | DatabaseFaultCode;

export interface DatabaseStateChange {
  state: DatabaseState;
  previous: DatabaseState;
  /** The underlying error (when the new state is a fault). */
  error: unknown;
  /** How long the previous state lasted (ms). */
  lastedMs: number;
}

/** Faults that a successful read proves over; the others (disk full, read-only) need a write. */
const CLEARED_BY_READ: ReadonlySet<DatabaseState> = new Set(['DATABASE_UNAVAILABLE', 'DATABASE_TIMEOUT']);

export class DatabaseHealth {
  #state: DatabaseState = 'ok';
  #since = Date.now();
  #lastError: unknown = null;
  readonly #listeners: ((change: DatabaseStateChange) => void)[] = [];

  get state(): DatabaseState {
    return this.#state;
  }

  get ok(): boolean {
    return this.#state === 'ok';
  }

  /** Epoch ms of the last change of state. */
  get since(): number {
    return this.#since;
  }

  get lastError(): unknown {
    return this.#lastError;
  }

  onChange(listener: (change: DatabaseStateChange) => void): void {
    this.#listeners.push(listener);
  }

  /** An error from the database: returns the 503 it stands for, or null when it is not a fault. */
  failed(error: unknown): ReturnType<typeof toDatabaseFault> {
    const fault = toDatabaseFault(error);
    if (fault) {
      this.#lastError = error;
      this.#set(fault.code as DatabaseFaultCode, error);
    }
    return fault;
  }

  /** A statement succeeded: a read clears unreachable and timed out; a write clears everything. */
  succeeded(write: boolean): void {
    if (this.#state === 'ok') return;
    if (write || CLEARED_BY_READ.has(this.#state)) this.#set('ok', null);
  }

  #set(state: DatabaseState, error: unknown): void {
    if (state === this.#state) return;
    const now = Date.now();
    const change: DatabaseStateChange = { state, previous: this.#state, error, lastedMs: now - this.#since };
    this.#state = state;
    this.#since = now;
    for (const listener of this.#listeners) listener(change);
  }
}
