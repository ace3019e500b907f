// Plugs the seed 000 routes (the vaulted SMTP accounts) into the app; the vault service itself is
// part of the container (domain/services.ts), with the provisioner that gives every new tenant its account.
import type { RuntimeExtension } from './runtime-types.js';
import { registerVaultRoutes } from './surfaces/native/vault-routes.js';
import { registerSeed000 } from './surfaces/seed000/index.js';

export const vaultExtension: RuntimeExtension = {
  name: 'vault',
  surfaces: [registerSeed000, registerVaultRoutes],
};
