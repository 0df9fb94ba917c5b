// JSON-lines data files load into the same Frame as the CSV of the same rows: column names, kinds, values bit for bit
// (NaN included), identifiers, labels, dropped columns and the detected format. Truth: the CSV the same command writes
// (`extract` of the bundled capture, both feature sets; `collect` of softflowd's committed v9 export, records and
// --features netflow), a labelled CSV turned into JSON lines by Python's csv and json modules, and hand-made files
// whose CSV twin is written beside them.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadDataset, type LoadOptions } from '../../src/datasets/load.js';
import type { Frame } from '../../src/frame/frame.js';
import { readDatagrams } from '../collector/build.js';
import { CLI, cli } from '../helpers/cli.js';
import { sharedFile } from '../helpers/datasets.js';

const CAPTURE = 'samples/captures/synscan.pcapng';

/** Every byte of every typed array and every other value of two frames, their file lists aside. */
function assertSameFrame(a: Frame, b: Frame, what: string): void {
  const bytes = (v: ArrayBufferView): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  const walk = (x: unknown, y: unknown, path: string): void => {
    if (ArrayBuffer.isView(x)) {
      assert.ok(ArrayBuffer.isView(y) && x.constructor === y.constructor, `${what}: ${path} is ${x.constructor.name} in one frame only`);
      assert.ok(bytes(x).equals(bytes(y)), `${what}: ${path} differs`);
      return;
    }
    if (x !== null && typeof x === 'object') {
      assert.ok(y !== null && typeof y === 'object', `${what}: ${path} is an object in one frame only`);
      const keys = new Set([...Object.keys(x), ...Object.keys(y as object)]);
      for (const k of keys) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], `${path}.${k}`);
      return;
    }
    assert.ok(Object.is(x, y), `${what}: ${path} is ${String(x)} vs ${String(y)}`);
  };
  walk({ ...a, source: { ...a.source, files: [] } }, { ...b, source: { ...b.source, files: [] } }, 'frame');
}

function write(dir: string, name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

async function assertSameLoads(csv: string, jsonl: string, what: string, options: LoadOptions[] = [{}]): Promise<Frame> {
  let frame: Frame | undefined;
  for (const o of options) {
    const a = await loadDataset([csv], o);
    const b = await loadDataset([jsonl], o);
    assertSameFrame(a, b, `${what} ${JSON.stringify(o)}`);
    frame ??= b;
  }
  return frame as Frame;
}

const ALL_WAYS: LoadOptions[] = [{}, { keepIdentifiers: true }, { identifiers: 'timestamps' }, { identifiers: 'none' }];

describe('JSON lines load as the CSV of the same rows', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fs-jsonl-frames-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const features of ['cic', 'netflow']) {
    it(`extract --features ${features} of the bundled capture: .csv and .jsonl give one frame`, async () => {
      for (const ext of ['csv', 'jsonl']) assert.equal(cli(['extract', CAPTURE, '--features', features, '--out', join(dir, `${features}.${ext}`)]).code, 0);
      const frame = await assertSameLoads(join(dir, `${features}.csv`), join(dir, `${features}.jsonl`), `extract ${features}`, ALL_WAYS);
      assert.equal(frame.nRows, 1994);
      assert.ok(frame.identifiers.some((c) => c.kind === 'time'), 'the start time is a time identifier');
      // gzip-compressed, and named .ndjson: the same
      const gz = join(dir, `${features}.jsonl.gz`);
      writeFileSync(gz, gzipSync(readFileSync(join(dir, `${features}.jsonl`))));
      const nd = join(dir, `${features}.ndjson`);
      writeFileSync(nd, readFileSync(join(dir, `${features}.jsonl`)));
      await assertSameLoads(join(dir, `${features}.csv`), gz, `extract ${features} gzip`);
      await assertSameLoads(join(dir, `${features}.csv`), nd, `extract ${features} ndjson`);
      // read as a named format too (the CIC set has the corrected CIC-IDS2017's columns)
      if (features === 'cic') await assertSameLoads(join(dir, 'cic.csv'), join(dir, 'cic.jsonl'), 'extract cic as cic-ids2017', [{ format: 'cic-ids2017' }]);
    });
  }

  it('collect of softflowd v9 exports, records and --features netflow: .csv and .jsonl give one frame', async () => {
    const datagrams = readDatagrams('test/fixtures/netflow/softflowd-v9.bin');
    const records = (JSON.parse(readFileSync('test/fixtures/netflow/softflowd-truth.json', 'utf8')) as Record<string, { records: number }>)['softflowd-v9']!.records;
    for (const features of [[], ['--features', 'netflow']]) {
      const name = features.length ? 'netflow' : 'records';
      for (const ext of ['csv', 'jsonl']) {
        const code = await collect(['--out', join(dir, `collect-${name}.${ext}`), ...features, '--count', String(records)], datagrams);
        assert.equal(code, 0);
      }
      const frame = await assertSameLoads(join(dir, `collect-${name}.csv`), join(dir, `collect-${name}.jsonl`), `collect ${name}`, ALL_WAYS);
      assert.equal(frame.nRows, records);
    }
  });

  it('a labelled CSV turned into JSON lines by Python (numbers as JSON numbers, NaN and Infinity tokens): one frame', async (t) => {
    const python = spawnSync('python3', ['--version']);
    if (python.status !== 0) return t.skip('python3 is absent');
    const csv = join(dir, 'labelled.csv');
    writeFileSync(
      csv,
      [
        'Flow ID,Src IP,Timestamp,duration,rate,proto,Label',
        'a-b-1,10.0.0.1,2017-07-06 12:39:06.818901,5,0.1,tcp,BENIGN',
        'a-b-2,10.0.0.2,2017-07-06 12:39:07,0,Infinity,udp,DDoS',
        'a-b-3,10.0.0.3,2017-07-06 12:39:08.5,3,NaN,tcp,BENIGN',
        'a-b-4,10.0.0.4,,12345678901234567890,1.2345678901234567,,PortScan',
        'a-b-5,10.0.0.5,2017-07-06 12:39:09,-0.0,-Infinity,"quoted, text",DDoS',
      ].join('\n') + '\n',
    );
    const jsonl = join(dir, 'labelled.jsonl');
    const script = [
      'import csv, json, sys',
      'def cell(v):',
      '    try: return int(v)',
      '    except ValueError: pass',
      '    try: return float(v)',
      '    except ValueError: return v',
      'rows = csv.DictReader(open(sys.argv[1], newline=""))',
      'with open(sys.argv[2], "w") as out:',
      '    for r in rows: out.write(json.dumps({k: cell(v) for k, v in r.items()}) + "\\n")',
    ].join('\n');
    assert.equal(spawnSync('python3', ['-c', script, csv, jsonl]).status, 0);
    assert.match(readFileSync(jsonl, 'utf8'), /"rate": Infinity/);
    const frame = await assertSameLoads(csv, jsonl, 'python labelled', [{}, { keepIdentifiers: true }, { label: 'proto', skipBadRows: true }]);
    assert.deepEqual(frame.label?.dictionary, ['BENIGN', 'DDoS', 'PortScan']);
    // a row without a label is named by its line (the JSON lines have no header line)
    await assert.rejects(loadDataset([jsonl], { label: 'proto' }), (err: Error) => err.message === `${jsonl}, line 4, column 'proto': 1 row has an empty 'proto' label; use --skip-bad-rows to skip them`);
    // every value a string (csv.DictReader's rows as they are): one frame too
    const strings = join(dir, 'labelled-strings.jsonl');
    assert.equal(spawnSync('python3', ['-c', script.replace('def cell(v):', 'def cell(v):\n    return v'), csv, strings]).status, 0);
    await assertSameLoads(csv, strings, 'python labelled, strings');
  });

  it('the shared CIC-IDS2017 sample turned into JSON lines: one frame', async (t) => {
    const benign = sharedFile('cic-ids2017/Botnet_736.csv');
    if (!benign) return t.skip('shared datasets absent');
    const jsonl = join(dir, 'botnet.jsonl');
    const lines = readFileSync(benign, 'utf8').trimEnd().split('\n');
    const header = lines[0]!.split(',');
    const out = lines.slice(1).map((line, n) => {
      const cells = line.split(',');
      // the first line in the CSV's column order (which the columns follow), every later one in another order
      const entries = header.map((h, i) => [h, /^-?\d+(\.\d+)?$/.test(cells[i]!) ? Number(cells[i]) : cells[i]!] as const);
      return JSON.stringify(Object.fromEntries(n === 0 ? entries : [...entries.slice(n % entries.length), ...entries.slice(0, n % entries.length)].reverse()));
    });
    writeFileSync(jsonl, `${out.join('\n')}\n`);
    const frame = await assertSameLoads(benign, jsonl, 'CIC-IDS2017 Botnet', [{}, { identifiers: 'timestamps' }]);
    assert.equal(frame.source.format, 'cic-ids2017');
  });

  it('hand-made lines: key order, absent keys and null are missing, strings in numeric columns, blank lines, CRLF, BOM', async () => {
    const csv = join(dir, 'hand.csv');
    writeFileSync(csv, 'x,y,name,label\n1,2.5,a,normal\n,3,,attack\n4,,"b ""q""",normal\n1e3,-inf,c,attack\n7,NaN,d,normal\n');
    const jsonl = join(dir, 'hand.jsonl');
    writeFileSync(
      jsonl,
      '\uFEFF{"x": 1, "y": 2.5, "name": "a", "label": "normal"}\r\n' +
        '\n' +
        '{"label":"attack","y":3,"x":null}\n' +
        '   \n' +
        '{"name":"b \\"q\\"","x":"4","label":"normal","y":null}\n' +
        '{"x":1000,"y":"-inf","name":"c","label":"attack"}\n' +
        '{"x":7,"y":NaN,"name":"\\u0064","label":"normal"}',
    );
    const frame = await assertSameLoads(csv, jsonl, 'hand-made', [{}, { keepIdentifiers: true }]);
    assert.equal(frame.nRows, 5);
    // a CSV file and a JSON-lines file of the same columns load together
    const both = await loadDataset([csv, jsonl]);
    assert.equal(both.nRows, 10);
    // a later JSON-lines file whose keys come in another order and whose lines lack one: the first file's columns
    const later = join(dir, 'later.jsonl');
    writeFileSync(later, '{"label":"attack","x":9,"y":0.5}\n{"name":"e","label":"normal","y":1,"x":8}\n');
    const twin = join(dir, 'later.csv');
    writeFileSync(twin, 'x,y,name,label\n9,0.5,,attack\n8,1,e,normal\n');
    assertSameFrame(await loadDataset([csv, twin]), await loadDataset([jsonl, later]), 'later file in other key order');
    await assert.rejects(loadDataset([jsonl, write(dir, 'other.jsonl', '{"x":1,"z":2,"label":"normal"}\n')]), /other\.jsonl: columns differ from .*hand\.jsonl: missing 'y', 'name'; extra 'z'/);
  });
});

/** `collect --listen udp://127.0.0.1:0 ARGS`, fed the datagrams once it listens; resolves to its exit code. */
async function collect(args: readonly string[], datagrams: readonly Buffer[]): Promise<number> {
  const child = spawn(process.execPath, [CLI, 'collect', '--listen', 'udp://127.0.0.1:0', '--duration', '60', ...args], { env: { ...process.env, FLOWSENTRY_THREADS: '2' } });
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on udp:\/\/\S+:(\d+)/.exec(stderr);
      if (m) resolve(Number(m[1]));
    });
    void exited.then(() => reject(new Error(`collect exited before listening: ${stderr}`)));
  });
  const socket = dgram.createSocket('udp4');
  for (const d of datagrams) await new Promise<void>((resolve) => socket.send(d, port, '127.0.0.1', () => resolve()));
  socket.close();
  return exited;
}
