// Child process of bench/extract.ts: meters one capture with the CIC features and prints its measurements as one
// JSON line. `records`: one FlowRecord per flow, whose vector the consumer reads inside the callback (as a scorer
// does); `batches`: columnar MeterBatch rows of 1024 flows, no object per flow; `pipeline`: batches, with reading and
// decoding in a second thread (meterCaptures). A file of its own, importing nothing at load: the bench's own imports
// (process spawning, capture building, tables) are not part of what it measures, and the decoder thread is started
// before the meter's modules are loaded, so the two start-ups overlap.
// `node dist/bench/extract-child.js FILE records|batches|pipeline`

import type { FlowMeter, MeterBatch } from '../src/flows/meter.js';

const [file, mode = 'records'] = process.argv.slice(2);
if (!file) throw new Error('usage: extract-child.js FILE records|batches|pipeline');

let flows = 0;
// A typed cell, not a closure variable: a double written to a closure variable is a new heap number each time.
const checksum = new Float64Array(1);
const cpu0 = process.cpuUsage();
const t0 = performance.now();

/** The meter, with its modules imported here: in `pipeline` mode after the decoder thread has been started. */
async function createMeter(): Promise<FlowMeter> {
  const [{ FlowMeter, MeterBatch }, { CIC_FEATURES }] = await Promise.all([import('../src/flows/meter.js'), import('../src/datasets/cic-names.js')]);
  const width = CIC_FEATURES.length;
  const consume = (b: MeterBatch): MeterBatch => {
    for (let i = 0; i < b.length; i++) checksum[0]! += b.features[i * width + 2]!;
    flows += b.length;
    b.length = 0;
    return b;
  };
  return new FlowMeter(
    (r) => {
      flows++;
      checksum[0]! += r.features![2]!;
    },
    mode === 'records' ? { reuseFeatureVector: true } : { batches: { first: new MeterBatch(1024, width), full: consume } },
  );
}

let packets: number;
if (mode === 'pipeline') {
  const { meterCaptures } = await import('../src/flows/decoder-thread.js');
  const { meter, captures } = await meterCaptures([file], createMeter);
  meter.flush();
  packets = captures[0]!.packets;
} else {
  const [{ readCapture }, meter] = await Promise.all([import('../src/io/capture.js'), createMeter()]);
  packets = (await readCapture(file, (p) => meter.addPacket(p))).packets;
  meter.flush();
}
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `${JSON.stringify({
    packets,
    flows,
    wall: (performance.now() - t0) / 1000,
    cpu: (cpu.user + cpu.system) / 1e6,
    rssMb: process.resourceUsage().maxRSS / 1024,
    checksum: checksum[0]!,
  })}\n`,
);
