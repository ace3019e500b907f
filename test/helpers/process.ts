// Starts `relaykey start` as a separate node process (the way operators run it) against a test
// server's database, so tests can kill -9 it or run several nodes side by side.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './server.js';

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output: string[];
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
}

/** How the tests run relaykey's CLI by default: the TypeScript sources through tsx. */
export const SOURCE_CLI = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];

/** `cli`: node arguments that run the CLI (the sources by default; the bundle test passes bin/relaykey.js). */
export async function spawnServer(env: NodeJS.ProcessEnv, timeoutMs = 90_000, cli: string[] = SOURCE_CLI): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...cli, 'start'], {
    cwd: ROOT,
    env: { ...env, RELAYKEY_PORT: '0', RELAYKEY_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relaykey start did not listen within ${timeoutMs} ms:\n${output.join('')}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output.push(text);
      const match = /relaykey listening on (https?:\/\/[0-9.]+:\d+)/.exec(text);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`relaykey start exited with ${code}:\n${output.join('')}`));
    });
  });
  return { url, child, output, exited };
}

/** SIGTERM to a node started by spawnServer (if it still runs); resolves with its exit code. */
export async function stopServerProcess(node: ServerProcess | undefined): Promise<number | null | undefined> {
  if (!node) return undefined;
  if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill('SIGTERM');
  return node.exited;
}

export async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
