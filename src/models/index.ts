// Registers every model. Import this module (not the registry alone) to get the full list.
// Add one import + registerModel line per model file.

import { registerModel } from './registry.js';
import { spec as logreg } from './logreg.js';
import { spec as svm } from './linear-svm.js';
import { spec as mlp } from './mlp.js';
import { spec as autoencoder } from './autoencoder.js';
import { spec as knn } from './knn.js';
import { spec as lof } from './lof.js';
import { spec as kmeans } from './kmeans.js';
import { spec as dbscan } from './dbscan.js';
import { spec as ecod } from './ecod.js';
import { spec as hybrid } from './hybrid.js';
import { spec as dt } from './decision-tree.js';
import { spec as rf } from './random-forest.js';
import { spec as gbdt } from './gbdt.js';
import { spec as iforest } from './iforest.js';
import { spec as hst } from './hst.js';

void registerModel;
registerModel(logreg);
registerModel(svm);
registerModel(mlp);
registerModel(autoencoder);
registerModel(knn);
registerModel(lof);
registerModel(kmeans);
registerModel(dbscan);
registerModel(ecod);
registerModel(hybrid);
registerModel(dt);
registerModel(rf);
registerModel(gbdt);
registerModel(iforest);
registerModel(hst);

export { getModelSpec, listModels } from './registry.js';
export type { ModelSpec } from './registry.js';
