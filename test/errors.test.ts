// UserError keeps what is wrong apart from where, so a caller can word or place it anew without parsing its message.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ParameterError, UserError } from '../src/errors.js';

describe('UserError', () => {
  it('leads its message with the location and keeps the problem without it', () => {
    const err = new UserError('not a number', { file: 'flows.csv', line: 3, column: 'Flow Bytes/s' });
    assert.equal(err.message, "flows.csv, line 3, column 'Flow Bytes/s': not a number");
    assert.equal(err.problem, 'not a number');
    assert.equal(new UserError('no rows').message, 'no rows');
    assert.equal(new UserError('no rows').problem, 'no rows');
  });

  it('a problem placed at another location is worded as one made there', () => {
    const read = new UserError('it ends in the middle of a block', { file: '<stream>', line: 2 });
    const renamed = read.at({ ...read.location, file: '<stdin>' });
    assert.ok(renamed instanceof UserError);
    assert.equal(renamed.message, '<stdin>, line 2: it ends in the middle of a block');
    assert.deepEqual(renamed.location, { file: '<stdin>', line: 2 });
    assert.equal(read.at({}).message, 'it ends in the middle of a block');
  });

  it('subclasses keep the problem too', () => {
    const err = new ParameterError('rf', 'n_estimators', 0, 'an integer ≥ 1');
    assert.equal(err.problem, err.message);
  });
});
