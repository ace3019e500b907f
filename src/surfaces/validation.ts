// Request validation: bodies are never coerced and unknown fields are rejected (not stripped);
// query strings and path parameters are coerced from text.
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, FastifySchemaValidationError } from 'fastify';

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

export function makeAjv(coerceTypes: boolean | 'array'): Ajv {
  const ajv = new Ajv({ coerceTypes, removeAdditional: false, useDefaults: true, allErrors: false, strict: false });
  addFormats(ajv);
  // RFC 3339 allows a leap second (`23:59:60`), which no Date can hold: such a time would pass
  // validation and fail later as a 500. A date-time must also be one JavaScript can represent.
  const dateTime = ajv.formats['date-time'];
  const check = typeof dateTime === 'object' && dateTime && 'validate' in dateTime ? dateTime.validate : dateTime;
  if (typeof check === 'function') {
    ajv.addFormat('date-time', { type: 'string', validate: (text: string) => (check as (t: string) => boolean)(text) && Number.isFinite(Date.parse(text)) });
  }
  return ajv;
}

export function installValidation(app: FastifyInstance): void {
  const bodyAjv = makeAjv(false);
  const textAjv = makeAjv('array');
  // Compiled on first use: compiling every route's schemas at start-up was the largest share
  // of start-up time, and most routes are rarely called.
  app.setValidatorCompiler(({ schema, httpPart }) => lazyValidator(httpPart === 'body' ? bodyAjv : textAjv, schema));
}

export interface Validator {
  (data: unknown): boolean;
  errors?: FastifySchemaValidationError[] | null;
}

/** Compiles `schema` with `ajv` on the first call (the first compile also builds Ajv's meta-schema). */
export function lazyValidator(ajv: Ajv, schema: object): Validator {
  let compiled: ReturnType<Ajv['compile']> | null = null;
  const validate: Validator = (data) => {
    compiled ??= ajv.compile(schema);
    const valid = compiled(data) as boolean;
    validate.errors = (compiled.errors as FastifySchemaValidationError[] | null | undefined) ?? null;
    return valid;
  };
  return validate;
}

/** One message that names the offending field, e.g. `body.scopes[0] must be equal to one of the allowed values`. */
export function formatValidationErrors(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const first = errors[0];
  if (!first) return new Error(`${dataVar} is not valid`);
  const path = `${dataVar}${(first.instancePath ?? '').replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.')}`;
  const params = first.params as Record<string, unknown>;
  if (first.keyword === 'additionalProperties') return new Error(`${path} has an unknown field "${String(params.additionalProperty)}"`);
  if (first.keyword === 'required') return new Error(`${path} is missing the required field "${String(params.missingProperty)}"`);
  if (first.keyword === 'anyOf' || first.keyword === 'const') return new Error(`${path} is not one of the allowed values`);
  return new Error(`${path} ${first.message ?? 'is not valid'}`);
}
