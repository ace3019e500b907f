// Response serializers compiled on first use. Fastify compiles a fast-json-stringify function for
// every response schema of every route while it starts (about 60 ms of a ~700 ms start-up at 1M
// keys, CPU profile); most management routes are rarely called. Same compiler, same output.
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

type SerializerFactory = ReturnType<typeof SerializerSelector>;

const buildDefault = SerializerSelector();

export const lazySerializerFactory: SerializerFactory = (externalSchemas, options) => {
  const compile = buildDefault(externalSchemas, options);
  return (route) => {
    let serialize: ((doc: unknown) => string) | null = null;
    return (doc) => {
      serialize ??= compile(route);
      return serialize(doc);
    };
  };
};
