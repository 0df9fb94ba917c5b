// Flowsentry's public library API.

export * from './errors.js';
export * from './frame/matrix.js';
export * from './frame/labels.js';
export type * from './frame/frame.js';
export type * from './flows/flow-record.js';
export * from './models/estimator.js';
export { getModelSpec, listModels, type ModelSpec } from './models/index.js';
export { encodeState, decodeState } from './store/state-codec.js';
export { Rng } from './util/rng.js';
