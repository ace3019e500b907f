// What an API surface is to the app: a function that adds its routes, given the service container.
import type { Services } from '../domain/services.js';
import type { App } from './native/types.js';

export type SurfaceRegistrar = (app: App, services: Services) => void | Promise<void>;
