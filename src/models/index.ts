// Registers every model. Import this module (not the registry alone) to get the full list.
// Add one import + registerModel line per model file.

import { registerModel } from './registry.js';

void registerModel;

export { getModelSpec, listModels } from './registry.js';
export type { ModelSpec } from './registry.js';
