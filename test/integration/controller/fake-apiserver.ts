// A loopback stand-in for the API server, used ONLY to inject faults a real one will not produce on
// demand: failing watches/lists, dropped streams, and half-open (silent) streams.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export type WatchMode = 'stream' | 'fail' | 'hang' | 'drop';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion: string; uid: string };
  data?: Record<string, string>;
}

export class FakeApiServer {
  private server: Server | undefined;
  private rv = 100;
  readonly objects = new Map<string, Obj>();
  private streams = new Set<ServerResponse>();
  private hung = new Set<ServerResponse>();
  /** How the next watch requests are answered, consumed front to back; 'stream' once empty. */
  watchModes: WatchMode[] = [];
  listFailures = 0;
  lists = 0;
  watches: URLSearchParams[] = [];
  port = 0;

  constructor(readonly path = '/api/v1/namespaces/ns/configmaps') {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of [...this.streams, ...this.hung]) s.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${this.port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
      currentContext: 'c',
    });
    return kc;
  }

  get openStreams(): number {
    return this.streams.size + this.hung.size;
  }

  /** Changes the store; connected 'stream' watchers get the event. */
  put(name: string, data: Record<string, string> = {}): Obj {
    const existed = this.objects.has(name);
    const obj: Obj = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'ns', resourceVersion: String(++this.rv), uid: `uid-${name}` },
      data,
    };
    this.objects.set(name, obj);
    this.broadcast(existed ? 'MODIFIED' : 'ADDED', obj);
    return obj;
  }

  delete(name: string, { silently = false } = {}): void {
    const obj = this.objects.get(name);
    if (!obj) return;
    this.objects.delete(name);
    obj.metadata.resourceVersion = String(++this.rv);
    if (!silently) this.broadcast('DELETED', obj);
  }

  /** Kills every open watch connection abruptly. */
  dropStreams(): void {
    for (const s of this.streams) s.socket?.destroy();
    this.streams.clear();
  }

  private broadcast(type: string, object: Obj): void {
    for (const s of this.streams) s.write(JSON.stringify({ type, object }) + '\n');
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== this.path) {
      res.writeHead(404).end();
      return;
    }
    if (url.searchParams.get('watch') !== 'true') {
      this.lists++;
      if (this.listFailures > 0) {
        this.listFailures--;
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ kind: 'Status', code: 500, message: 'injected list failure' }));
        return;
      }
      const body = {
        kind: 'ConfigMapList',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(this.rv) },
        items: [...this.objects.values()].map((o) => ({ ...o, kind: undefined, apiVersion: undefined })),
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    this.watches.push(url.searchParams);
    const mode = this.watchModes.shift() ?? 'stream';
    if (mode === 'fail') {
      res
        .writeHead(500, { 'content-type': 'application/json' })
        .end(JSON.stringify({ kind: 'Status', code: 500, message: 'injected watch failure' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    if (mode === 'drop') {
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    if (mode === 'hang') {
      this.hung.add(res); // held open, never written to: a half-open stream as the client sees it
      res.on('close', () => this.hung.delete(res));
      return;
    }
    this.streams.add(res);
    res.on('close', () => this.streams.delete(res));
  }
}
