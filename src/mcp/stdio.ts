// The MCP stdio transport: one JSON-RPC message per line on stdin, one per line on stdout (no embedded newlines).
// stdout carries nothing else; diagnostics go to stderr. Messages are answered in arrival order.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { McpServer } from './protocol.js';

/** Serve until the input ends; resolves then. */
export function serveStdio(
  server: McpServer,
  input: Readable = process.stdin,
  output: Writable = process.stdout,
): Promise<void> {
  const rl = createInterface({ input, crlfDelay: Infinity });
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    const text = line.trim();
    if (!text) return;
    chain = chain.then(async () => {
      const reply = await server.handleText(text);
      if (reply !== undefined) output.write(`${JSON.stringify(reply)}\n`);
    });
  });
  return new Promise((resolve) => rl.once('close', () => void chain.then(resolve)));
}
