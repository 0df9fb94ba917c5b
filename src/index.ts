// Flowsentry's public library API.

export * from './errors.js';
export * from './frame/matrix.js';
export * from './frame/labels.js';
export type * from './frame/frame.js';
export type * from './flows/flow-record.js';
export { FlowCollector, DEFAULT_RECEIVE_BUFFER, type CollectorOptions, type CollectorStats } from './flows/collector.js';
export { CollectorPipeline, type CollectorPipelineOptions } from './flows/collector-pipeline.js';
export { decodeDatagram, DecodeStats, FlowBatch, TemplateStore, type TemplateStoreOptions } from './io/netflow/decode.js';
export * from './models/estimator.js';
export { getModelSpec, listModels, type ModelSpec } from './models/index.js';
export { encodeState, decodeState } from './store/state-codec.js';
export { Rng } from './util/rng.js';
export * from './frame/splits.js';
export { Pipeline, type PipelineOptions, type DroppedByPipeline, type ImputedCounts } from './prep/pipeline.js';
export { uniqueRows } from './prep/dedup-rows.js';
export * from './eval/classification.js';
export * from './eval/curves.js';
export { logLoss } from './eval/log-loss.js';
export * from './eval/threshold.js';
export { CV_METRICS, type CvMetric } from './eval/scoring.js';
export { crossValidate, evaluateCandidates, type CvData, type CvOptions, type CvResult, type CandidateResult, type MetricSummary, type Candidate } from './eval/cross-validate.js';
export { search, gridCandidates, randomCandidates, type SearchOptions, type SearchResult, type SearchSpace } from './eval/search.js';
