// Response serializers are compiled when a route first answers, not while the server starts.
import { describe, expect, it } from 'vitest';
import { lazySerializerFactory } from '../../src/surfaces/serialization.js';

const route = (schema: object) => ({ schema, method: 'GET', url: '/x', httpStatus: '200' });

describe('lazy response serializers', () => {
  it('compile on first use: a broken schema fails only when it is used', () => {
    const compile = lazySerializerFactory({}, {});
    const broken = compile(route({ $ref: 'missing#/definitions/nothing' }));
    expect(() => broken({})).toThrow();
  });

  it('serialize exactly as fast-json-stringify does, dropping fields the schema does not name', () => {
    const serialize = lazySerializerFactory({}, {})(route({ type: 'object', properties: { id: { type: 'string' }, n: { type: 'integer' } } }));
    expect(serialize({ id: 'a', n: 2, secret: 'never' })).toBe('{"id":"a","n":2}');
    expect(serialize({ id: 'b', n: 3 })).toBe('{"id":"b","n":3}');
  });
});
