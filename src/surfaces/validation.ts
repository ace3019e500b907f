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
  return ajv;
}

export function installValidation(app: FastifyInstance): void {
  const bodyAjv = makeAjv(false);
  const textAjv = makeAjv('array');
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));
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
