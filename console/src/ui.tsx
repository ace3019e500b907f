// Small shared pieces: data loading, error notices, dialogs, the secret-once dialog, paging, times.
import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api } from './api';

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs a load when its inputs change; stale answers (after a newer load started) are dropped. */
export function useLoad<T>(load: () => Promise<T>, inputs: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: null, loading: true });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === generation.current && setState({ data, error: null, loading: false }),
      (error) => mine === generation.current && setState({ data: undefined, error, loading: false }),
    );
  }, inputs);
  useEffect(run, [run]);
  return { ...state, reload: run };
}

export interface Submission {
  busy: boolean;
  error: unknown;
  setError: (error: unknown) => void;
  /** Marks the form busy and clears the last error, runs `work`, and keeps what it throws as the error. */
  run: (work: () => Promise<void>) => Promise<void>;
}

/** The busy and error state of a form whose submit calls the API. */
export function useSubmission(): Submission {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function run(work: () => Promise<void>): Promise<void> {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, setError, run };
}

export function describeError(error: unknown, what = 'This'): string {
  if (error instanceof ApiError) {
    if (error.status === 403) return `Not allowed: ${error.message}. Your sign-in does not permit this action.`;
    if (error.code === 'REAUTH_REQUIRED') return 'Re-authentication is required or has expired. Confirm your password again.';
    if (error.code === 'RATE_LIMITED') return 'Too many requests: wait a moment and try again.';
    const reference = error.requestId ? ` (request ${error.requestId})` : '';
    if (error.status >= 500) return `${what}: the server failed to handle this request${reference}. Try again; if it persists, tell the operators.`;
    return `${error.message}${reference}`;
  }
  return 'Something went wrong in the console. Reload the page and try again.';
}

export function Notice({ error, what }: { error: unknown; what?: string }) {
  if (!error) return null;
  return (
    <p class="notice notice-error" role="alert" data-testid="error">
      {describeError(error, what)}
    </p>
  );
}

export function Success({ children }: { children: ComponentChildren }) {
  return (
    <p class="notice notice-ok" role="status">
      {children}
    </p>
  );
}

export function Loading({ loading }: { loading: boolean }) {
  return loading ? (
    <p class="muted" aria-live="polite">
      Loading…
    </p>
  ) : null;
}

/** A modal <dialog>: focus stays inside, Escape closes it. */
export function Dialog({ title, onClose, children, label }: { title: string; onClose: () => void; children: ComponentChildren; label?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      aria-label={label ?? title}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <div class="dialog-head">
        <h2>{title}</h2>
        <button type="button" class="link" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </div>
      {children}
    </dialog>
  );
}

export async function copyText(text: string, fallback: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!fallback) return false;
    fallback.select();
    return document.execCommand('copy');
  }
}

/** Shows a secret exactly once, with a copy button and a warning that it cannot be shown again. */
export function SecretDialog({ title, secret, onClose, extra }: { title: string; secret: string; onClose: () => void; extra?: ComponentChildren }) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<boolean | null>(null);
  return (
    <Dialog title={title} onClose={onClose}>
      <p class="notice notice-warning" role="alert">
        Copy this secret now. It is shown only once: relaykey stores only a hash and cannot show it again. Anyone with it can use it.
      </p>
      {extra}
      <label>
        Secret
        <input ref={input} data-testid="secret" class="mono" readOnly value={secret} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <div class="row">
        <button type="button" onClick={async () => setCopied(await copyText(secret, input.current))}>
          Copy secret
        </button>
        <button type="button" class="secondary" onClick={onClose}>
          I have stored it
        </button>
        {copied === true ? <span role="status">Copied to the clipboard.</span> : null}
        {copied === false ? <span role="status">Copy failed: select the text and copy it by hand.</span> : null}
      </div>
    </Dialog>
  );
}

export function Pager({ page, perPage, total, go }: { page: number; perPage: number; total: number; go: (page: number) => void }) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" class="secondary" disabled={page <= 1} onClick={() => go(page - 1)}>
        Previous
      </button>
      <span>
        Page {page} of {pages} ({total} in all)
      </span>
      <button type="button" class="secondary" disabled={page >= pages} onClick={() => go(page + 1)}>
        Next
      </button>
    </nav>
  );
}

export function time(iso: unknown): string {
  if (typeof iso !== 'string' || !iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function Time({ iso }: { iso: unknown }) {
  if (typeof iso !== 'string' || !iso) return <span class="muted">—</span>;
  return <time dateTime={iso}>{time(iso)}</time>;
}

export function show(value: unknown): string {
  if (value === undefined || value === null || value === '') return '—';
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) return value.map(show).join(', ');
  return JSON.stringify(value);
}

export function Table({ caption, head, children, empty }: { caption: string; head: string[]; children: ComponentChildren; empty?: boolean }) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {head.map((h) => (
              <th scope="col" key={h}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {children}
          {empty ? (
            <tr>
              <td colSpan={head.length} class="muted">
                Nothing here yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}

export type Submit = JSX.TargetedEvent<HTMLFormElement, Event>;

export function formValue(form: HTMLFormElement, name: string): string {
  const value = new FormData(form).get(name);
  return typeof value === 'string' ? value.trim() : '';
}

/** datetime-local input value (local time) -> ISO string. */
export function localToIso(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** "Credentials · Acme": each tenant page names its tenant in its heading. */
export function TenantHeading({ tenantId, title, children }: { tenantId: string; title: string; children?: ComponentChildren }) {
  const [name, setName] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    api.tenants.get(tenantId).then(
      (tenant) => live && setName(tenant.name),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [tenantId]);
  return (
    <div class="page-head">
      <h1 tabIndex={-1}>
        {title}
        {name ? <span class="muted"> · {name}</span> : null}
      </h1>
      {children}
    </div>
  );
}
