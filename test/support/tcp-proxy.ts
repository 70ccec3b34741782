// A loopback TCP proxy in front of the API server (TLS passes through untouched) that can cut every connection
// through it and refuse new ones for a while: the operator's watch and requests cut the way a network partition or
// a dropped load-balancer connection cuts them, which a real API server cannot be told to do.
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private refusing = false;
  /** Connections accepted so far (each watch or pooled request connection is one). */
  accepted = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<number> {
    this.server = createServer((client) => {
      if (this.refusing) {
        client.destroy();
        return;
      }
      this.accepted++;
      const upstream = connect(this.targetPort, this.targetHost);
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        this.sockets.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => {
          this.sockets.delete(a);
          b.destroy();
        });
        a.pipe(b);
      }
    });
    await new Promise<void>((res) => this.server!.listen(0, '127.0.0.1', res));
    return (this.server!.address() as { port: number }).port;
  }

  /** Resets every open connection (both sides see it end abruptly). */
  cut(): number {
    const n = this.sockets.size / 2;
    for (const s of this.sockets) s.resetAndDestroy();
    return n;
  }

  /** Cuts everything and refuses new connections until `restore()`. */
  partition(): void {
    this.refusing = true;
    this.cut();
  }

  restore(): void {
    this.refusing = false;
  }

  async stop(): Promise<void> {
    this.partition();
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
  }
}
