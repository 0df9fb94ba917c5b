// Alert: what the detection engine emits for a flow judged malicious. Field names are the JSON field names (stdout
// JSON lines, file sink, webhook body, store, API). Documented in docs/records.md; change both together.

import type { FlowKey } from '../flows/flow-record.js';

/** When the verdict was reached: after the first N packets of a live flow, or when the flow ended. */
export type AlertStage = 'early' | 'final';

export interface FeatureContribution {
  /** Canonical feature name. */
  readonly feature: string;
  /** The flow's value of the feature. */
  readonly value: number;
  /** Signed contribution to the score (positive pushes towards attack). */
  readonly contribution: number;
  /** The feature's normal range in training data (5th and 95th percentiles of normal rows). */
  readonly normalRange: readonly [number, number];
}

/**
 * The analyst's verdict that raised an alert: the model's own score was below its threshold, and the flow's nearest
 * feedback row in the model's feedback memory (set by `retrain`) is a confirmed alert within the memory's radius, so
 * the memory scored it at the threshold. The alert's `explanation` explains the model's own score.
 */
export interface FeedbackDecision {
  readonly verdict: 'confirmed';
  /** The id of the confirmed alert, or null for a model retrained before alert ids were kept. */
  readonly alertId: string | null;
  /** The feedback row's index in the model's memory. */
  readonly feedbackRow: number;
  /** Euclidean distance between the two flows in the model's input space, and the memory's radius. */
  readonly distance: number;
  readonly radius: number;
}

export interface Alert {
  /** Stable id: the same flow, stage and model always give the same id (hex of a hash). */
  readonly id: string;
  /** Times in milliseconds since the Unix epoch: when raised, and the flow's first and last packet. */
  readonly timeMs: number;
  readonly flowStartMs: number;
  readonly flowEndMs: number;
  readonly flow: FlowKey;
  readonly model: { readonly name: string; readonly version: string; readonly file: string };
  /** Model score in the model's own scale and the threshold it crossed. */
  readonly score: number;
  readonly threshold: number;
  /** Predicted label (attack name or 'anomaly') and its category (e.g. DoS, Probe), when the model has one. */
  readonly label: string;
  readonly category: string;
  readonly stage: AlertStage;
  /** Packets seen when the verdict was made. */
  readonly packets: number;
  /** Top contributing features, largest absolute contribution first. */
  readonly explanation: readonly FeatureContribution[];
  /** Present when a confirmed verdict in the model's feedback memory raised the flow to an alert. */
  readonly decidedByFeedback?: FeedbackDecision;
  /**
   * Aggregation: repeated alerts from one source within the window update one alert instead of raising new ones.
   * `count` flows so far, last update time.
   */
  readonly count: number;
  readonly lastSeenMs: number;
}
