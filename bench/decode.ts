// SPDX-License-Identifier: MIT
//
// The decode-and-emit ceiling: synthetic batches of packed records pushed
// through the real ExecTracer (decode, stats, emit) into a JS listener.
// Stands in for hosts that exec far faster than this 2-core VM can.
import { ExecTracer } from '../lib/index.js';
import { MockBinding, encodeExecRecord } from '../test/helpers/mock-binding.js';

export interface DecodeResult {
  listener: string;
  eventsPerSecond: number;
  recordBytes: number;
}

/** A ~256 KiB batch (the addon's batch cap) of realistic exec records. */
function syntheticBatch(): { batch: Buffer; count: number; recordBytes: number } {
  const records: Buffer[] = [];
  let bytes = 0;
  for (let i = 0; bytes < 256 * 1024; i++) {
    const r = encodeExecRecord({
      pid: 10_000 + i,
      ppid: 1,
      comm: 'node',
      filename: '/usr/bin/node',
      argv: ['/usr/bin/node', '--enable-source-maps', `/srv/app/worker-${i}.js`, '--port', String(8000 + (i % 100))],
      exe: '/usr/local/lib/nodejs/node-v20.20.2-linux-x64/bin/node',
      cwd: '/srv/app',
    });
    records.push(r);
    bytes += r.length;
  }
  return { batch: Buffer.concat(records), count: records.length, recordBytes: Math.round(bytes / records.length) };
}

async function measure(listener: string, read: (e: import('../lib/index.js').ExecEvent) => unknown, seconds: number) {
  const binding = new MockBinding();
  const tracer = new ExecTracer({}, { binding });
  let sink = 0;
  tracer.on('exec', (e) => {
    if (read(e)) sink++;
  });
  await tracer.start();
  const { batch, count, recordBytes } = syntheticBatch();
  const native = binding.current;
  // The addon hands each batch over as a fresh Buffer copy; so does this.
  const deadline = process.hrtime.bigint() + BigInt(seconds * 1e9);
  const t0 = process.hrtime.bigint();
  let events = 0;
  while (process.hrtime.bigint() < deadline) {
    native.push(Buffer.from(batch));
    events += count;
  }
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  await tracer.stop();
  if (sink === 0) throw new Error('the listener saw nothing');
  return { listener, eventsPerSecond: Math.round(events / elapsed), recordBytes };
}

export async function decodeCeiling(seconds = 2): Promise<DecodeResult[]> {
  return [
    await measure('reads pid', (e) => e.pid > 0, seconds),
    await measure('reads pid, comm, argv', (e) => e.pid > 0 && e.comm.length > 0 && e.argv.length > 0, seconds),
  ];
}
