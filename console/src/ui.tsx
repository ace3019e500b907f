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

/**
 * Calls `refresh` every `ms` while the page is visible, and at once when it becomes visible
 * again; a hidden tab asks the server nothing.
 */
export function useAutoRefresh(refresh: () => void, ms: number): void {
  const latest = useRef(refresh);
  latest.current = refresh;
  useEffect(() => {
    let timer: ReturnType<typeof setInterval> | null = null;
    const start = () => {
      timer ??= setInterval(() => latest.current(), ms);
    };
    const stop = () => {
      if (timer) clearInterval(timer);
      timer = null;
    };
    const onVisibility = () => {
      if (document.visibilityState === 'hidden') stop();
      else {
        latest.current();
        start();
      }
    };
    if (document.visibilityState !== 'hidden') start();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      stop();
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [ms]);
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
    if (error.code === 'VALIDATION_FAILED') return friendlyValidation(error.message);
    const reference = error.requestId ? ` (request ${error.requestId})` : '';
    if (error.status >= 500) return `${what}: the server failed to handle this request${reference}. Try again; if it persists, tell the operators.`;
    return `${error.message}${reference}`;
  }
  return 'Something went wrong in the console. Reload the page and try again.';
}

const FORMAT_HINTS: Record<string, string> = {
  uuid: 'is not a valid ID (IDs look like 123e4567-e89b-12d3-a456-426614174000)',
  email: 'is not an email address',
  uri: 'is not a full URL (https://…)',
  'date-time': 'is not a date and time',
  ipv4: 'is not an IP address',
};
const PATTERN_HINTS: Record<string, string> = {
  name: 'must not be blank',
  reason: 'must not be blank',
  smtp: 'is not an address and port such as 127.0.0.1:2525',
  imap: 'is not an address and port such as 127.0.0.1:143',
  pop3: 'is not an address and port such as 127.0.0.1:110',
  domain: 'is not a domain name such as example.com',
  address: 'is not a mailbox address such as alice@example.com',
  url: 'is not a full URL (https://…)',
  webmail_url: 'is not a full URL (https://…)',
};

const PARENT_LABELS: Record<string, string> = { mail_backends: 'mail backend', connection_info: 'connection', sending_limits: 'sending limit' };

/** "tenantId" or "webmail_url" -> "Tenant ID" / "Webmail URL"; "mail_backends.smtp" -> "SMTP mail backend". */
function fieldLabel(path: string): string {
  const parts = path.replace(/\[\d+\]/g, '').split('.');
  const last = parts.pop() ?? path;
  const parent = parts.pop();
  if (parent && PARENT_LABELS[parent] && /^(smtp|imap|pop3)$/.test(last)) return `${last.toUpperCase()} ${PARENT_LABELS[parent]}`;
  const words = last
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/_/g, ' ')
    .toLowerCase()
    .replace(/\b(id|url|ip|smtp|imap|pop3|totp)\b/g, (w) => w.toUpperCase());
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The API's validation text names schema paths and regular expressions
 * (`body.domain must match pattern "^(?=…"`): say which field is wrong, in words.
 */
export function friendlyValidation(message: string): string {
  const match = /^(body|params|querystring|query|headers)\.?([\w.[\]-]*) (.*)$/s.exec(message);
  if (!match) return message.replace(/ must match pattern "[^"]*"/g, ' is not in the expected form');
  const [, where = '', path = '', rest = ''] = match;
  const field = path ? fieldLabel(path) : 'The request';
  const last = path.split('.').pop() ?? '';
  let text = rest;
  const format = /^must match format "([^"]+)"/.exec(rest)?.[1];
  if (format) text = FORMAT_HINTS[format] ?? 'is not in the expected form';
  else if (/^must match pattern/.test(rest)) text = PATTERN_HINTS[last] ?? 'is not in the expected form';
  else
    text = rest
      .replace(/^must NOT have more than (\d+) characters/, 'is longer than $1 characters')
      .replace(/^must NOT have fewer than (\d+) characters/, 'is shorter than $1 characters');
  if (where === 'params')
    return `The address of this page is wrong: the ${field.charAt(0).toLowerCase()}${field.slice(1)} in it ${text}. Check the link you followed.`;
  return `${field} ${text}.`;
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

/**
 * A modal <dialog>: focus stays inside, Escape closes it. Focus starts on the element marked
 * data-autofocus, else the first field or button of the body (never the ✕, where a reflex Enter
 * would close it).
 */
export function Dialog({ title, onClose, children, label }: { title: string; onClose: () => void; children: ComponentChildren; label?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    const first =
      dialog?.querySelector<HTMLElement>('[data-autofocus]') ??
      dialog?.querySelector<HTMLElement>(':scope > :not(.dialog-head) :is(input:not([type=hidden]):not([disabled]), select, textarea, button:not([disabled]))');
    first?.focus();
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

/**
 * Shows a secret exactly once, with a copy button and a warning that it cannot be shown again.
 * Focus starts on the secret; the dialog closes (button, ✕ or Escape) only once the operator
 * has ticked "I have stored the secret", so a reflex key press cannot discard it.
 */
export function SecretDialog({ title, secret, onClose, extra }: { title: string; secret: string; onClose: () => void; extra?: ComponentChildren }) {
  const input = useRef<HTMLInputElement>(null);
  const check = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<boolean | null>(null);
  const [stored, setStored] = useState(false);
  const [warned, setWarned] = useState(false);
  function close() {
    if (stored) {
      onClose();
      return;
    }
    setWarned(true);
    check.current?.focus();
  }
  return (
    <Dialog title={title} onClose={close}>
      <p class="notice notice-warning" role="alert">
        Copy this secret now. It is shown only once: relaykey stores only a hash and cannot show it again. Anyone with it can use it.
      </p>
      {extra}
      <label>
        Secret
        <input ref={input} data-testid="secret" data-autofocus class="mono" readOnly value={secret} onFocus={(e) => e.currentTarget.select()} />
      </label>
      <label class="inline">
        <input
          ref={check}
          type="checkbox"
          name="stored"
          checked={stored}
          onChange={(e) => {
            setStored(e.currentTarget.checked);
            setWarned(false);
          }}
        />{' '}
        I have stored the secret
      </label>
      {warned ? (
        <p class="notice notice-error" role="alert" data-testid="secret-warning">
          Tick “I have stored the secret” first: once this closes, the secret cannot be shown again.
        </p>
      ) : null}
      <div class="row">
        <button type="button" onClick={async () => setCopied(await copyText(secret, input.current))}>
          Copy secret
        </button>
        <button type="button" class="secondary" onClick={close} aria-disabled={stored ? undefined : 'true'}>
          I have stored it
        </button>
        {copied === true ? <span role="status">Copied to the clipboard.</span> : null}
        {copied === false ? <span role="status">Copy failed: select the text and copy it by hand.</span> : null}
      </div>
    </Dialog>
  );
}

/** Asks before a destructive action; the confirm button shows that the request is running. */
export function ConfirmDialog({
  title,
  confirm,
  danger = true,
  onClose,
  onConfirm,
  children,
}: {
  title: string;
  confirm: string;
  danger?: boolean;
  onClose: () => void;
  onConfirm: () => Promise<void>;
  children: ComponentChildren;
}) {
  const { busy, error, run } = useSubmission();
  return (
    <Dialog title={title} onClose={onClose}>
      <div class="stack">
        {children}
        <Notice error={error} what={title} />
        <div class="row">
          <button type="button" class="secondary" onClick={onClose} data-autofocus>
            Cancel
          </button>
          <button type="button" class={danger ? 'danger' : undefined} disabled={busy} aria-busy={busy || undefined} onClick={() => run(onConfirm)}>
            {busy ? 'Working…' : confirm}
          </button>
        </div>
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
    // Focusable, so keyboard users can scroll a wide table on a narrow screen (axe scrollable-region-focusable).
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must take focus to scroll by keyboard
    <section class="table-wrap" tabIndex={0} aria-label={caption}>
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
    </section>
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
