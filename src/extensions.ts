// The one place that lists the capabilities plugged into the runtime, the HTTP app and the CLI.
let registered = false;

export function registerExtensions(): void {
  if (registered) return;
  registered = true;
}
