// SPDX-License-Identifier: MIT
//
// serveMetrics(): the HTTP endpoint an agent needs, `/metrics` for
// Prometheus and `/healthz` for a readiness probe (Kubernetes, a load
// balancer, a Prometheus job of its own), on node:http alone. It listens on
// 127.0.0.1 unless told otherwise: the metrics name the commands a host
// runs, which is not for every network the host is on.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MetricsError } from './errors.js';

/** What serveMetrics() serves: a TracerMetrics fits. */
interface Served {
  readonly ready: boolean;
  readonly contentType: string;
  metrics(): string;
}

/** What is needed of a prom-client Registry to serve it instead. */
interface RegistryText {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** `serveMetrics(metrics, options)`. */
export interface ServeMetricsOptions {
  /** The port; 0 picks a free one (see `port` on the result). */
  port: number;
  /** The address to listen on. Default `'127.0.0.1'`; `'0.0.0.0'` or `'::'` for every interface. */
  host?: string;
  /** Serve this prom-client Registry's text at `/metrics` (where tracerMetrics() registered) instead of `metrics.metrics()`. */
  registry?: RegistryText;
}

/** A listening metrics endpoint. */
export interface MetricsServer extends AsyncDisposable {
  /** The address listened on. */
  readonly host: string;
  /** The port listened on (the one picked, for port 0). */
  readonly port: number;
  /** `http://HOST:PORT/metrics`. */
  readonly url: string;
  /** Stops listening and closes open connections. Idempotent. */
  close(): Promise<void>;
  /** close(). */
  [Symbol.asyncDispose](): Promise<void>;
}

const OPTIONS = new Set(['port', 'host', 'registry']);

function optionsError(message: string): never {
  throw new MetricsError('EOPTIONS', `exec-tracer/metrics: ${message}`, { hint: 'see serveMetrics() in docs/agent.md' });
}

/**
 * Serves `GET /metrics` (the metrics in Prometheus's text format) and
 * `GET /healthz`: 200 while the tracer is attached, 503 before and after,
 * each with a one-line body (`exec_tracer_ready 1` or `0`, itself valid
 * Prometheus text). Anything else is 404 (405 for a method other than GET
 * or HEAD). Resolves once listening.
 * @throws MetricsError EOPTIONS for a bad option, ELISTEN when the address
 *   cannot be listened on.
 */
export async function serveMetrics(metrics: Served, options: ServeMetricsOptions): Promise<MetricsServer> {
  if (typeof options !== 'object' || options === null) optionsError('options must be an object with a port');
  for (const key of Object.keys(options)) if (!OPTIONS.has(key)) optionsError(`unknown option ${JSON.stringify(key)}`);
  const { port, host = '127.0.0.1', registry } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) optionsError(`port must be an integer from 0 to 65535, got ${String(port)}`);
  if (typeof host !== 'string' || host === '') optionsError(`host must be an address, got ${JSON.stringify(host)}`);
  if (registry !== undefined && (typeof registry?.metrics !== 'function' || typeof registry.contentType !== 'string'))
    optionsError('registry must be a prom-client Registry');

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics' && path !== '/healthz') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try /metrics or /healthz\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    let status = 200;
    let type: string;
    let body: string;
    if (path === '/healthz') {
      const ready = metrics.ready;
      status = ready ? 200 : 503;
      type = metrics.contentType;
      body = `exec_tracer_ready ${ready ? 1 : 0}\n`;
    } else if (registry) {
      type = registry.contentType;
      body = await registry.metrics();
    } else {
      type = metrics.contentType;
      body = metrics.metrics();
    }
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`collecting the metrics failed: ${(error as Error).message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
      reject(
        new MetricsError('ELISTEN', `exec-tracer/metrics: cannot listen on ${where}: ${error.code ?? error.message}`, {
          hint:
            error.code === 'EADDRINUSE'
              ? 'another process has that port: pick another'
              : error.code === 'EADDRNOTAVAIL'
                ? 'the address is not one of this host: use 127.0.0.1, 0.0.0.0 or an address of an interface'
                : 'check the address and that this process may listen on that port',
          cause: error,
        }),
      );
    });
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.address.includes(':') ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Prometheus keeps its connection open between scrapes.
      server.closeAllConnections();
    }));
  return {
    host: address.address,
    port: address.port,
    url: `http://${urlHost}:${address.port}/metrics`,
    close,
    [Symbol.asyncDispose]: close,
  };
}
