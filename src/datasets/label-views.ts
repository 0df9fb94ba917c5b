// Label views of a loaded frame: 'binary' (normal vs attack), 'attack' (attack name as in the file, normalised) and
// 'category' (KDD names → DoS/Probe/R2L/U2R, UNSW-NB15 attack_cat, CIC attack families, ISCX Normal/Attack). The
// normal class is 'normal' in every view of every format, whatever the file calls it (Normal, BENIGN, 0, ...).
// Each view maps the (small) label dictionary once and then the codes: O(rows).

import { UserError } from '../errors.js';
import type { CategoricalColumn, Frame } from '../frame/frame.js';
import type { Labels } from '../frame/labels.js';
import { isDecimalText } from '../io/numeric-text.js';
import { getFormat } from './formats.js';
import { genericCsv } from './generic-csv.js';
import { NORMAL_CATEGORY } from './schema.js';

export type LabelViewName = 'binary' | 'attack' | 'category';
export const LABEL_VIEWS: readonly LabelViewName[] = ['binary', 'attack', 'category'];

/** Class names of the binary view, in code order: 0 = normal, 1 = attack (the positive class). */
export const BINARY_CLASSES: readonly string[] = ['normal', 'attack'];

/**
 * The labels of a frame in the given view. A frame without labels is a user error; so is a row without a label, unless
 * `keepEmpty` (predict, which only echoes labels): its code is then -1.
 */
export function labelView(frame: Frame, view: LabelViewName, keepEmpty = false): Labels {
  const label = frame.label;
  if (!label) throw new UserError(`${frame.source.files.join(', ')}: the dataset has no label column; name one with --label`);
  // a column named with --label on a known format is labelled as in any CSV
  const overridden = frame.source.labelColumn !== undefined;
  const format = getFormat(overridden ? genericCsv.name : frame.source.format);
  switch (view) {
    case 'attack':
      // the normal class is spelled as in the other views ('normal', not UNSW's 'Normal' or CIC's 'BENIGN')
      return recode(label, (name) => (format.isNormal(name) ? NORMAL_CATEGORY : name), undefined, keepEmpty);
    case 'binary': {
      const explicit = overridden ? undefined : frame.meta?.find((c) => c.kind === 'numeric' && c.name.toLowerCase() === 'label' && frame.source.format === 'unsw-nb15');
      const byName = (): Labels => recode(label, (name) => (format.isNormal(name) ? 'normal' : 'attack'), BINARY_CLASSES, keepEmpty);
      if (explicit && explicit.kind === 'numeric') {
        // a row whose 0/1 cell is empty takes its class from its attack name (an empty cell read as 1 made it an attack)
        const values = explicit.values;
        const named = values.some(Number.isNaN) ? byName() : undefined;
        const codes = new Int32Array(frame.nRows);
        for (let i = 0; i < codes.length; i++) codes[i] = Number.isNaN(values[i]) ? named!.codes[i] : values[i] !== 0 ? 1 : 0;
        return { codes, classes: BINARY_CLASSES };
      }
      return byName();
    }
    case 'category': {
      const category = overridden ? undefined : frame.category;
      const source = category ?? label;
      const map = category ? (name: string) => (format.isNormal(name) ? NORMAL_CATEGORY : name) : (name: string) => format.categoryOf(name);
      return recode(source, map, undefined, keepEmpty);
    }
    default:
      throw new UserError(`unknown label view '${String(view)}'; views: ${LABEL_VIEWS.join(', ')}`);
  }
}

/** More distinct numbers than this in a label column mean a measurement (bytes, ports), not classes. */
export const MAX_NUMERIC_LABEL_CLASSES = 100;

/**
 * Why the label column cannot name classes, or undefined: every value a number and more than
 * MAX_NUMERIC_LABEL_CLASSES of them ('sbytes' as a label: 3,355 classes of byte counts). The same rule for every format.
 */
export function labelColumnProblem(frame: Frame): string | undefined {
  const label = frame.label;
  if (!label || label.dictionary.length <= MAX_NUMERIC_LABEL_CLASSES) return undefined;
  if (!label.dictionary.every((v) => isDecimalText(v.trim()))) return undefined;
  return `label column '${label.name}' holds ${label.dictionary.length.toLocaleString('en-US')} distinct numbers, not classes: choose the column of class names (attack names, or 0/1) with --label`;
}

/** Maps each dictionary entry to a class name; classes are sorted (as sklearn sorts them) unless given. */
function recode(column: CategoricalColumn, map: (name: string) => string, fixed: readonly string[] | undefined, keepEmpty: boolean): Labels {
  const used = new Uint8Array(column.dictionary.length);
  for (let i = 0; i < column.codes.length; i++) {
    const c = column.codes[i];
    if (c >= 0) used[c] = 1;
    else if (!keepEmpty) throw new UserError(`row ${i} has no '${column.name}' label`);
  }
  const names = column.dictionary.map(map);
  const classes = fixed ?? [...new Set(names.filter((_, i) => used[i] === 1))].sort();
  const index = new Map(classes.map((c, i) => [c, i]));
  const remap = Int32Array.from(names, (n) => index.get(n) ?? -1);
  const codes = new Int32Array(column.codes.length);
  for (let i = 0; i < codes.length; i++) codes[i] = column.codes[i] < 0 ? -1 : remap[column.codes[i]];
  return { codes, classes };
}
