// Lookups asked for during one turn of the event loop, run together as one batch.
//
// A stream of cold verifications asks for one row at a time, a few dozen per turn under load.
// Each batch is one message to the SQLite lookup worker, or one PostgreSQL query with an array
// parameter instead of one round trip per key. The batch is sent in setImmediate, right after
// the poll phase whose requests asked for it; a key asked for after a commit is therefore sent
// after that commit, and sees it.

/** Runs a batch: one answer per key, in the keys' order. */
export type BatchRunner<Key, Answer> = (keys: Key[]) => Promise<Answer[]>;

interface Waiting<Answer> {
  resolve(answer: Answer): void;
  reject(error: unknown): void;
}

/** A function that answers one key, through `run` once per turn for all keys asked for in it. */
export function turnBatches<Key, Answer>(run: BatchRunner<Key, Answer>): (key: Key) => Promise<Answer> {
  let keys: Key[] = [];
  let waiting: Waiting<Answer>[] = [];
  const send = () => {
    const batchKeys = keys;
    const batchWaiting = waiting;
    keys = [];
    waiting = [];
    let running: Promise<Answer[]>;
    try {
      running = run(batchKeys);
    } catch (error) {
      running = Promise.reject(error);
    }
    const fail = (error: unknown) => {
      for (const w of batchWaiting) w.reject(error);
    };
    running.then((answers) => {
      if (!Array.isArray(answers) || answers.length !== batchWaiting.length) {
        fail(new Error(`a batch of ${batchWaiting.length} lookups came back with ${Array.isArray(answers) ? answers.length : 'no'} answers`));
        return;
      }
      for (let i = 0; i < batchWaiting.length; i++) (batchWaiting[i] as Waiting<Answer>).resolve(answers[i] as Answer);
    }, fail);
  };
  return (key) =>
    new Promise<Answer>((resolve, reject) => {
      if (keys.length === 0) setImmediate(send);
      keys.push(key);
      waiting.push({ resolve, reject });
    });
}
