// Load generator used when wrk is not installed: autocannon in its own process, driven by
// the same environment as bench/load.lua, printing the same BENCH_JSON line.
// Usage: tsx bench/autocannon-load.ts URL CONNECTIONS DURATION_S
import { readFileSync } from 'node:fs';
import autocannon, { type Request } from 'autocannon';

const [url, connectionsArg, durationArg] = process.argv.slice(2);
if (!url) throw new Error('usage: autocannon-load URL CONNECTIONS DURATION_S');
const connections = Number(connectionsArg ?? '50');
const mode = process.env.BENCH_MODE ?? 'verify';
const token = process.env.BENCH_TOKEN ?? '';
const hot = Number(process.env.BENCH_HOT ?? '0');
const offset = Number(process.env.BENCH_OFFSET ?? '1');
const limit = Number(process.env.BENCH_LIMIT ?? '0');
const clientIp = process.env.BENCH_CLIENT_IP || undefined;
// Paced, not saturated (see bench/load.lua): autocannon spreads the same mean rate evenly.
const delayMs = Number(process.env.BENCH_DELAY_MS ?? '0');

const users: string[] = [];
const keys: string[] = [];
for (const line of readFileSync(process.env.BENCH_KEYS as string, 'utf8').split('\n')) {
  const tab = line.indexOf('\t');
  if (tab < 0) continue;
  users.push(line.slice(0, tab));
  keys.push(line.slice(tab + 1));
}
let counter = 0;
const next = () => {
  const i = hot > 0 ? counter % hot : (offset - 1 + counter) % keys.length;
  counter += 1;
  return i;
};

type RequestShape = { method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string };
function build(): RequestShape {
  const i = next();
  if (mode === 'verify') {
    return {
      method: 'POST',
      path: '/api/v1/verify',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ username: users[i], password: keys[i], protocol: 'smtp', ...(clientIp ? { client_ip: clientIp } : {}) }),
    };
  }
  if (mode === 'auth_http') {
    return {
      method: 'GET',
      path: '/auth/nginx',
      headers: {
        authorization: `Bearer ${token}`,
        'auth-method': 'plain',
        'auth-user': users[i] as string,
        'auth-pass': keys[i] as string,
        'auth-protocol': 'smtp',
        'auth-login-attempt': '1',
        'client-ip': clientIp ?? '127.0.0.1',
        'client-host': 'localhost',
      },
    };
  }
  return { method: 'POST', path: '/verify', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: keys[i] }) };
}

const result = await autocannon({
  url,
  connections,
  duration: Number(durationArg ?? '5'),
  ...(limit > 0 ? { amount: limit } : {}),
  ...(delayMs > 0 ? { overallRate: Math.round((connections * 1000) / delayMs) } : {}),
  requests: [{ setupRequest: (request: Request) => ({ ...request, ...build() }) as Request }],
});
const ms = (value: number) => Math.round(value * 1000);
process.stdout.write(
  `BENCH_JSON ${JSON.stringify({
    requests: result.requests.total,
    duration_us: Math.round(result.duration * 1e6),
    errors_status: result.non2xx,
    errors_socket: result.errors + result.timeouts,
    p50_us: ms(result.latency.p50),
    p90_us: ms(result.latency.p90),
    p99_us: ms(result.latency.p99),
    max_us: ms(result.latency.max),
    mean_us: ms(result.latency.average),
  })}\n`,
);
