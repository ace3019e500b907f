// The one place that lists the capabilities plugged into the runtime, the HTTP app and the CLI.
import { runtimeExtensions } from './runtime.js';
import { consoleExtension } from './surfaces/console/console-surface.js';

let registered = false;

export function registerExtensions(): void {
  if (registered) return;
  registered = true;
  runtimeExtensions.push(consoleExtension);
}
