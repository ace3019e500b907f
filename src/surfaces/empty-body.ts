// Operations whose body is optional: a request with no body at all, or with
// `content-type: application/json` and an empty body, is read as `{}`. Applies to the routes of
// the (encapsulated) plugin scope it is installed on; anything else still parses as strict JSON.
import type { App } from './native/types.js';

export function readEmptyBodyAsObject(scope: App): void {
  // Fastify's own JSON parser with its defaults (prototype poisoning refused), for non-empty bodies.
  const parseJson = scope.getDefaultJsonParser('error', 'error');
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') {
      done(null, {});
      return;
    }
    parseJson(request, body as string, done);
  });
  scope.addHook('preValidation', async (request) => {
    if (request.body === undefined) request.body = {};
  });
}
