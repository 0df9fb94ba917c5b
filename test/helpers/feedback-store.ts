// An alert store holding one alert for a model, marked a false positive by an analyst: the feedback retrain learns.

import { AlertStore } from '../../src/store/alert-store.js';
import { makeAlert } from '../detect/alert-fixtures.js';

/** Writes store `path` with one alert of `model` (file) on a flow with `features`, marked a false positive. */
export async function storeFalsePositive(path: string, model: { name: string; file: string }, features: Record<string, number>): Promise<void> {
  const store = await AlertStore.open(path);
  store.putAlert(makeAlert({ model: { ...model, version: '0' } }), true, features);
  await store.flush();
  if (!(await store.addFeedback('a1', 'false_positive'))) throw new Error('feedback on alert a1 not stored');
  await store.close();
}
