// Reading a V8 heap snapshot (the .heapsnapshot JSON that `--heapsnapshot-signal` or v8.writeHeapSnapshot writes):
// live objects counted and sized by constructor, as the Memory tab of Chrome DevTools groups them, and two such
// summaries compared.

import { readFileSync } from 'node:fs';

export interface ConstructorTally {
  count: number;
  bytes: number;
}

export interface HeapSummary {
  /** Sum of the self sizes of the JS heap's nodes: the heap in use after the full GC the snapshot makes. */
  bytes: number;
  /** Sum of the sizes the embedder reports for native nodes (array-buffer data, Node's handles): outside the JS heap. */
  nativeBytes: number;
  nodes: number;
  byConstructor: Map<string, ConstructorTally>;
}

interface SnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Objects and native objects by their constructor's name, closures as "(closure)", the rest by V8's node type. */
export function summarizeHeapSnapshot(path: string): HeapSummary {
  let json: SnapshotJson;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as SnapshotJson;
  } catch (err) {
    throw new Error(`${path}: not a heap snapshot (${(err as Error).message})`, { cause: err });
  }
  const fields = json.snapshot.meta.node_fields;
  const typeNames = json.snapshot.meta.node_types[0];
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const byConstructor = new Map<string, ConstructorTally>();
  let bytes = 0;
  let nativeBytes = 0;
  for (let i = 0; i < json.nodes.length; i += stride) {
    const type = typeNames[json.nodes[i + typeAt]];
    const size = json.nodes[i + sizeAt];
    const key = type === 'object' || type === 'native' ? json.strings[json.nodes[i + nameAt]] : `(${type})`;
    const tally = byConstructor.get(key) ?? { count: 0, bytes: 0 };
    tally.count++;
    tally.bytes += size;
    byConstructor.set(key, tally);
    if (type === 'native') nativeBytes += size;
    else bytes += size;
  }
  return { bytes, nativeBytes, nodes: json.nodes.length / stride, byConstructor };
}

export interface ConstructorGrowth {
  name: string;
  countBefore: number;
  countAfter: number;
  bytesBefore: number;
  bytesAfter: number;
}

/** The constructors whose bytes changed most between two summaries, largest change first. */
export function heapGrowth(before: HeapSummary, after: HeapSummary, top: number): ConstructorGrowth[] {
  const names = new Set([...before.byConstructor.keys(), ...after.byConstructor.keys()]);
  const rows = [...names].map((name) => {
    const b = before.byConstructor.get(name) ?? { count: 0, bytes: 0 };
    const a = after.byConstructor.get(name) ?? { count: 0, bytes: 0 };
    return { name, countBefore: b.count, countAfter: a.count, bytesBefore: b.bytes, bytesAfter: a.bytes };
  });
  rows.sort((x, y) => Math.abs(y.bytesAfter - y.bytesBefore) - Math.abs(x.bytesAfter - x.bytesBefore));
  return rows.slice(0, top);
}
