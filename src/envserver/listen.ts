import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listen on host:port; resolves with the address actually bound (port 0 picks one) and its URL. */
export function listenOn(
  server: Server,
  host: string,
  port: number,
): Promise<{ host: string; port: number; url: string }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address() as AddressInfo;
      const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
      resolve({ host: a.address, port: a.port, url: `http://${shown}:${a.port}` });
    });
  });
}
