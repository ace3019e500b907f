// The seed (compat) surfaces 001, 002 and 003 as one runtime extension: routes only, no jobs.
import type { RuntimeExtension } from '../runtime-types.js';
import { registerSeed001 } from './seed001/routes.js';
import { registerSeed002 } from './seed002/routes.js';
import { registerSeed003 } from './seed003/routes.js';

export const seedSurfacesExtension: RuntimeExtension = {
  name: 'seed-surfaces-001-003',
  surfaces: [registerSeed001, registerSeed002, registerSeed003],
};
