// SPDX-License-Identifier: MIT
//
// The syslog sink's queue, accounting, errors and reconnection, against a
// local net.Server / tls.Server used only as a byte sink that splits the
// octet-counted frames. (Delivery to a real syslog server is proven against
// rsyslog in test/integration/syslog.test.ts.)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { TracerEvent } from '../../lib/otel/attributes.js';
import { decodeBatch } from '../../lib/records/decode.js';
import { SyslogError, SyslogSink, type SyslogSinkStats } from '../../lib/sinks/syslog.js';
import { makeCa } from '../helpers/certs.js';
import { encodeExecRecord } from '../helpers/mock-binding.js';

const clock = { epochOffsetNs: 1_796_602_323_000_000_000n };
const exec = (n: number): TracerEvent =>
  decodeBatch(encodeExecRecord({ pid: 1000 + n, argv: ['/bin/echo', `tag-${n}`] }), clock, {}).records[0]!;

/** The frames a server received: `LEN SP MSG`, split by LEN. */
class FrameSink {
  messages: string[] = [];
  connections = 0;
  sockets = new Set<Socket>();
  server: Server;
  /** Messages received but not kept, as a server that dies before writing what it read. */
  forget = 0;
  constructor(tlsOptions?: { cert: Buffer; key: Buffer }) {
    const onSocket = (socket: Socket) => {
      this.connections++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => {});
      let pending = Buffer.alloc(0);
      socket.on('data', (data: Buffer) => {
        pending = Buffer.concat([pending, data]);
        for (;;) {
          const space = pending.indexOf(0x20);
          if (space < 0) break;
          const len = Number(pending.subarray(0, space).toString());
          expect(Number.isInteger(len) && len > 0, `frame length "${pending.subarray(0, space)}"`).toBe(true);
          if (pending.length < space + 1 + len) break;
          if (this.forget > 0) this.forget--;
          else this.messages.push(pending.subarray(space + 1, space + 1 + len).toString());
          pending = pending.subarray(space + 1 + len);
        }
      });
    };
    this.server = tlsOptions ? createTlsServer(tlsOptions, onSocket) : createServer(onSocket);
  }
  listen(port = 0): Promise<number> {
    return new Promise((resolve) => this.server.listen(port, '127.0.0.1', () => resolve((this.server.address() as AddressInfo).port)));
  }
  /** Stops listening and cuts every connection, as a server that dies. */
  kill(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
  tags(): string[] {
    return this.messages.map((m) => /tag-\d+/.exec(m)![0]);
  }
}

const sinks: SyslogSink[] = [];
const servers: FrameSink[] = [];
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close({ timeoutMs: 0 })));
  await Promise.all(servers.splice(0).map((s) => s.kill().catch(() => {})));
  vi.restoreAllMocks();
});
function sink(options: ConstructorParameters<typeof SyslogSink>[0]) {
  const s = new SyslogSink(options);
  sinks.push(s);
  return s;
}
async function server(tlsOptions?: { cert: Buffer; key: Buffer }) {
  const s = new FrameSink(tlsOptions);
  servers.push(s);
  return { server: s, port: await s.listen() };
}
const balanced = (s: SyslogSinkStats) => s.sent + s.queued + s.dropped === s.written;

async function until(test: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = new FrameSink();
  const port = await s.listen();
  await s.kill();
  return port;
}

describe('SyslogSink', () => {
  it('sends every event as one octet-counted frame, in order, and keeps sent + queued + dropped === written', async () => {
    const { server: srv, port } = await server();
    const s = sink({ url: `tcp://127.0.0.1:${port}` });
    const n = 3000;
    for (let i = 0; i < n; i++) {
      s.write(exec(i));
      expect(balanced(s.stats())).toBe(true);
    }
    expect(s.stats()).toMatchObject({ written: n, sent: 0, queued: n, dropped: 0 });
    await until(() => {
      expect(balanced(s.stats())).toBe(true);
      return s.stats().sent === n;
    });
    const stats = await s.close();
    expect(stats).toMatchObject({ written: n, sent: n, queued: 0, dropped: 0, reconnects: 0 });
    await until(() => srv.messages.length === n);
    expect(srv.tags()).toEqual(Array.from({ length: n }, (_, i) => `tag-${i}`));
    expect(srv.messages[0]).toMatch(/^<86>1 \S+ \S+ exec-tracer \d+ exec_tracer\.process\.exec - \{"timestamp"/);
  });

  it('queues while the server is away, drops past maxQueue (counted, EDROPPED once), and close() counts the rest as dropped', async () => {
    const port = await closedPort();
    const s = sink({ url: `tcp://127.0.0.1:${port}`, maxQueue: 5 });
    const errors: SyslogError[] = [];
    s.on('error', (e) => errors.push(e));
    for (let i = 0; i < 8; i++) s.write(exec(i));
    expect(s.stats()).toMatchObject({ written: 8, sent: 0, queued: 5, dropped: 3 });
    await until(() => errors.some((e) => e.code === 'ECONNECT'));
    const refused = errors.find((e) => e.code === 'ECONNECT')!;
    expect(refused.message).toContain(`tcp://127.0.0.1:${port}: cannot connect`);
    expect(refused.message).toContain('ECONNREFUSED');
    expect(errors.filter((e) => e.code === 'EDROPPED')).toHaveLength(1);
    const started = Date.now();
    const stats = await s.close({ timeoutMs: 300 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(stats).toMatchObject({ written: 8, sent: 0, queued: 0, dropped: 8 });
  });

  it('close() resolves within timeoutMs when the server stalls (accepts, never reads), the unsent counted as dropped', async () => {
    // A server that stops reading: the kernels' buffers fill, then nothing moves.
    const stalled = createServer((socket) => {
      socket.pause();
      socket.on('error', () => {});
    });
    const port = await new Promise<number>((resolve) => stalled.listen(0, '127.0.0.1', () => resolve((stalled.address() as AddressInfo).port)));
    try {
      const s = sink({ url: `tcp://127.0.0.1:${port}` });
      await new Promise<void>((resolve) => s.once('connect', () => resolve()));
      // 3,000 messages of 7 kB: 21 MB, more than the two kernels buffer.
      const big = (n: number) => decodeBatch(encodeExecRecord({ pid: 1000 + n, argv: ['/bin/echo', `tag-${n}`, 'x'.repeat(7000)] }), clock, {}).records[0]!;
      for (let i = 0; i < 3000; i++) s.write(big(i));
      let last = -1;
      await until(() => {
        const { sent } = s.stats();
        const still = sent === last && sent > 0;
        last = sent;
        return still;
      });
      await new Promise((r) => setTimeout(r, 100));
      const started = performance.now();
      const stats = await s.close({ timeoutMs: 300 });
      const took = performance.now() - started;
      expect(took).toBeGreaterThanOrEqual(290);
      // Not 300 ms and then a second for the server's FIN.
      expect(took).toBeLessThan(500);
      expect(stats.dropped).toBeGreaterThan(0);
      expect(stats).toMatchObject({ written: 3000, queued: 0, sent: 3000 - stats.dropped });
    } finally {
      stalled.close();
    }
  });

  it('counts write() after close() as dropped, with ECLOSED, never throwing', async () => {
    const { port } = await server();
    const s = sink({ url: `tcp://127.0.0.1:${port}` });
    const errors: SyslogError[] = [];
    s.on('error', (e) => errors.push(e));
    s.write(exec(1));
    await s.close();
    expect(() => s.write(exec(2))).not.toThrow();
    expect(s.stats()).toMatchObject({ written: 2, sent: 1, dropped: 1, queued: 0 });
    expect(errors.map((e) => e.code)).toEqual(['ECLOSED']);
    expect(await s.close()).toMatchObject({ sent: 1, dropped: 1 });
  });

  it("with no 'error' listener, warns once per kind of problem instead of throwing", async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const port = await closedPort();
    const s = sink({ url: `tcp://127.0.0.1:${port}`, maxQueue: 1 });
    s.write(exec(1));
    expect(() => s.write(exec(2))).not.toThrow();
    s.write(exec(3));
    // Several refused connections: still one warning of each kind.
    await until(() => s.listenerCount('error') === 0 && warn.mock.calls.length >= 2);
    await new Promise((r) => setTimeout(r, 400));
    const codes = warn.mock.calls.map(([e]) => (e as SyslogError).code);
    expect(codes.sort()).toEqual(['ECONNECT', 'EDROPPED']);
    expect(warn.mock.calls[0]![0]).toBeInstanceOf(SyslogError);
  });

  it('reconnects after the server dies and comes back on the same port, and delivers everything at least once', async () => {
    const { server: first, port } = await server();
    const s = sink({ url: `tcp://127.0.0.1:${port}`, maxBackoffMs: 200 });
    s.on('error', () => {});
    for (let i = 0; i < 100; i++) s.write(exec(i));
    await until(() => first.messages.length === 100);
    await first.kill();
    for (let i = 100; i < 200; i++) {
      s.write(exec(i));
      expect(balanced(s.stats())).toBe(true);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(s.stats().sent).toBeLessThan(200);
    const second = new FrameSink();
    servers.push(second);
    await second.listen(port);
    await until(() => s.stats().sent === 200);
    const stats = await s.close();
    expect(stats).toMatchObject({ written: 200, sent: 200, dropped: 0, queued: 0 });
    expect(stats.reconnects).toBeGreaterThanOrEqual(1);
    const got = new Set([...first.tags(), ...second.tags()]);
    expect(got.size).toBe(200);
    // At-least-once: the messages confirmed before the loss are sent again (the replay window).
    expect(stats.replayed).toBeGreaterThan(0);
    expect(second.messages.length).toBe(100 + stats.replayed);
  });

  it('sends again what a server that died had received but not kept (the replay window), so none is lost', async () => {
    const { server: first, port } = await server();
    const s = sink({ url: `tcp://127.0.0.1:${port}`, maxBackoffMs: 200 });
    s.on('error', () => {});
    for (let i = 0; i < 50; i++) s.write(exec(i));
    await until(() => first.messages.length === 50);
    // The next 20 reach the server's socket, the kernel confirms them, and the server dies before keeping them.
    first.forget = 20;
    for (let i = 50; i < 70; i++) s.write(exec(i));
    await until(() => first.forget === 0 && s.stats().sent === 70);
    await first.kill();
    const second = new FrameSink();
    servers.push(second);
    await second.listen(port);
    await until(() => s.stats().replayed > 0 && second.messages.length >= s.stats().replayed);
    const stats = await s.close();
    expect(stats).toMatchObject({ written: 70, sent: 70, dropped: 0 });
    expect(new Set([...first.tags(), ...second.tags()]).size).toBe(70);
    expect(second.tags()).toEqual(expect.arrayContaining(Array.from({ length: 20 }, (_, i) => `tag-${50 + i}`)));
  });

  describe('over TLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'et-syslog-tls-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const good = makeCa(dir, 'good');
    const other = makeCa(dir, 'other');
    const serverTls = { cert: readFileSync(good.certFile), key: readFileSync(good.keyFile) };

    it('sends to a server whose certificate chains to options.ca', async () => {
      const { server: srv, port } = await server(serverTls);
      const s = sink({ url: `tls://127.0.0.1:${port}`, ca: readFileSync(good.caFile) });
      for (let i = 0; i < 10; i++) s.write(exec(i));
      expect(await s.close()).toMatchObject({ sent: 10, dropped: 0 });
      await until(() => srv.messages.length === 10);
    });

    it('refuses a server certificate from another CA, naming the problem and the url', async () => {
      const { server: srv, port } = await server(serverTls);
      const s = sink({ url: `tls://127.0.0.1:${port}`, ca: readFileSync(other.caFile) });
      const errors: SyslogError[] = [];
      s.on('error', (e) => errors.push(e));
      s.write(exec(1));
      await until(() => errors.length > 0);
      expect(errors[0]!.code).toBe('ETLS');
      expect(errors[0]!.message).toMatch(new RegExp(`tls://127\\.0\\.0\\.1:${port}: the server's certificate is not trusted: UNABLE_TO_VERIFY_LEAF_SIGNATURE`));
      expect(await s.close({ timeoutMs: 0 })).toMatchObject({ sent: 0, dropped: 1 });
      expect(srv.messages).toEqual([]);
    });
  });
});
