// Every answer the suite gets through call() is checked against what /openapi.json documents for
// its operation and status (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses): an answer that does
// not match its documented schema fails the test that made the request, on both dialects.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: object }> }>;
}
interface Route {
  pattern: RegExp;
  params: number;
  methods: Record<string, Operation>;
}

const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true, validateFormats: true }));
const documents = new Map<string, Promise<Route[]>>();
const validators = new WeakMap<object, ValidateFunction>();

async function routesOf(baseUrl: string): Promise<Route[]> {
  const response = await fetch(`${baseUrl}/openapi.json`);
  const document = (await response.json()) as { paths: Record<string, Record<string, Operation>> };
  return Object.entries(document.paths).map(([path, methods]) => ({
    pattern: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
    params: (path.match(/\{/g) ?? []).length,
    methods,
  }));
}

/** The documented schema of an answer: the exact status, else its range (4XX), else default. */
function schemaFor(operation: Operation, status: number): object | null | undefined {
  const responses = operation.responses ?? {};
  const response = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
  if (!response) return undefined;
  return response.content?.['application/json']?.schema ?? null;
}

/**
 * Throws when a JSON answer does not match the schema documented for it; an answer whose
 * operation or status is not documented at all fails too. Routes outside the document (the
 * console, /docs, unknown paths) are not checked.
 */
export async function checkDocumentedResponse(
  server: { url: string },
  method: string,
  path: string,
  answer: { status: number; headers: Headers; body: unknown; text: string },
): Promise<void> {
  let routes = documents.get(server.url);
  if (!routes) {
    routes = routesOf(server.url);
    documents.set(server.url, routes);
  }
  const pathname = path.split('?')[0]?.replace(/(.)\/$/, '$1') ?? '';
  const candidates = (await routes).filter((route) => route.pattern.test(pathname) && route.methods[method.toLowerCase()]);
  if (candidates.length === 0) return;
  // A static segment wins over a parameter (`/mobile` over `/{keyId}`).
  const route = candidates.sort((a, b) => a.params - b.params)[0] as Route;
  const operation = route.methods[method.toLowerCase()] as Operation;
  const where = `${method} ${path} -> ${answer.status}`;
  const schema = schemaFor(operation, answer.status);
  if (schema === undefined) throw new Error(`${where}: the status is not documented in /openapi.json`);
  const contentType = answer.headers.get('content-type') ?? '';
  if (schema === null || answer.text === '' || !contentType.includes('application/json')) return;
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    validators.set(schema, validate);
  }
  if (!validate(answer.body)) {
    throw new Error(`${where}: the answer does not match its documented schema: ${ajv.errorsText(validate.errors)}\n${answer.text.slice(0, 500)}`);
  }
}
