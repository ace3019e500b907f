// Plugs the vaulted SMTP accounts into the runtime: the vault service, the provisioner that
// gives every new tenant its account, and the seed 000 routes.
import { Envelope } from './crypto/envelope.js';
import { readKeyFile } from './crypto/root-secret.js';
import { attachVault, SmtpAccountService } from './domain/vault.js';
import type { RuntimeExtension } from './runtime.js';
import { registerSeed000 } from './surfaces/seed000/index.js';

export const vaultExtension: RuntimeExtension = {
  name: 'vault',
  install(runtime) {
    // Embedded mode may gain root key versions while running (`relaykey keys rotate`
    // appends to the key file); with RELAYKEY_MASTER_KEY the ring changes only on restart.
    const envelope = new Envelope(runtime.rootKeys, {
      reloadRing: runtime.config.masterKey ? null : () => readKeyFile(runtime.config.dataDir),
    });
    const vault = new SmtpAccountService(runtime.services.context, runtime.services.credentials, envelope, {
      rotationMonths: runtime.config.smtpRotationMonths,
    });
    attachVault(runtime.services, vault);
    runtime.services.provisioning.provisioners.push(vault.provision);
  },
  surfaces: [registerSeed000],
};
