// A real MCP client against `node bin/sim-arena.js mcp --scenario cpu-slight` as a child process: the stdio
// transport, the lifecycle, tools/list and an episode played to solved with observe/act.
import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../../../src/bench/scenarios.js';

interface Reply {
  id: number;
  result?: {
    content?: Array<{ type: string; text: string }>;
    structuredContent?: Record<string, unknown>;
    isError?: boolean;
    [k: string]: unknown;
  };
  error?: { code: number; message: string };
}

/** A minimal MCP client: newline-delimited JSON-RPC over a child's stdin/stdout. */
class StdioClient {
  private next = 1;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as Reply;
      this.waiting.get(msg.id)?.(msg);
      this.waiting.delete(msg.id);
    });
    child.stderr.on('data', (b: Buffer) => (this.stderr += b.toString()));
    this.exited = new Promise((res) => child.once('exit', (code) => res(code)));
  }

  request(method: string, params?: unknown): Promise<Reply> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no reply to ${method} within 10 s; stderr:\n${this.stderr}`)),
        10_000,
      );
      this.waiting.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.child.stdin.write(
        `${JSON.stringify({ jsonrpc: '2.0', id, method, ...(params !== undefined ? { params } : {}) })}\n`,
      );
    });
  }

  notify(method: string): void {
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method })}\n`);
  }

  async tool(name: string, args: Record<string, unknown> = {}) {
    const r = await this.request('tools/call', { name, arguments: args });
    if (r.error) throw new Error(`${name}: ${r.error.message}`);
    return {
      isError: r.result!.isError === true,
      data: JSON.parse(r.result!.content![0]!.text) as Record<string, unknown>,
    };
  }
}

/** `node bin/sim-arena.js mcp ...` once src/cli/main.ts dispatches `mcp`; until then the command module directly. */
function command(args: string[]): { cmd: string; argv: string[]; note?: string } {
  const main = readFileSync(join(REPO_ROOT, 'src', 'cli', 'main.ts'), 'utf8');
  if (/['"]?mcp['"]?\s*:/.test(main))
    return { cmd: process.execPath, argv: [join(REPO_ROOT, 'bin', 'sim-arena.js'), 'mcp', ...args] };
  return {
    cmd: process.execPath,
    argv: ['--import', 'tsx', join(REPO_ROOT, 'test', 'unit', 'mcp', '_entry.ts'), ...args],
    note: 'src/cli/main.ts does not dispatch `mcp` yet: spawned test/unit/mcp/_entry.ts instead of bin/sim-arena.js',
  };
}

describe('mcp: stdio server as a child process', function () {
  this.timeout(20_000);
  let client: StdioClient;

  before(() => {
    const c = command(['--scenario', 'cpu-slight', '--steps', '10', '--seed', '3']);
    if (c.note) console.log(`      (${c.note})`);
    client = new StdioClient(
      spawn(c.cmd, c.argv, {
        cwd: REPO_ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, NODE_NO_WARNINGS: '1' },
      }),
    );
  });

  after(async () => {
    client.child.stdin.end();
    const code = await Promise.race([client.exited, new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
    if (code === 'timeout') client.child.kill();
    expect(code, 'the server exits cleanly when stdin closes').to.equal(0);
  });

  it('initializes, lists all six tools and plays cpu-slight to solved with observe and act', async () => {
    const init = await client.request('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'sim-arena-test', version: '0' },
    });
    expect(init.result).to.deep.include({ protocolVersion: '2025-06-18' });
    client.notify('notifications/initialized');

    const list = await client.request('tools/list');
    const names = (list.result!.tools as Array<{ name: string }>).map((t) => t.name);
    expect(names)
      .to.have.members(['get_pods', 'describe_deployment', 'get_events', 'get_pod_logs', 'observe', 'act'])
      .and.have.length(6);

    const start = await client.tool('observe');
    expect(start.isError).to.equal(false);
    expect(start.data).to.deep.include({ scenario: 'canonical:cpu-slight', target: 3, step: 0, solved: false });
    expect(start.data.observation).to.deep.equal({ ready: 0, pending: 3, total: 3 });
    expect(start.data.resources).to.deep.include({ cpu: '17' });

    // Play it like an agent would: read the observation, act, until solved.
    let view = start.data;
    const actions: string[] = [];
    while (view.solved !== true && actions.length < 10) {
      const obs = view.observation as { pending: number; total: number };
      const action = obs.pending > 0 ? 'reduce-cpu' : obs.total > 3 ? 'scale-down' : 'scale-up';
      const r = await client.tool('act', { action });
      expect(r.isError, JSON.stringify(r.data)).to.equal(false);
      actions.push(action);
      view = r.data;
    }
    expect(actions).to.deep.equal(['reduce-cpu', 'reduce-cpu']);
    expect(view).to.deep.include({ step: 2, solved: true, done: true });
    expect(view.observation).to.deep.equal({ ready: 3, pending: 0, total: 3 });
    expect(view.resources).to.deep.include({ cpu: '16' });
    expect(view.totalReward).to.be.closeTo(-0.45 + 1, 1e-9);

    const over = await client.tool('act', { action: 0 });
    expect(over.isError).to.equal(true);
    expect(over.data.error).to.match(/the episode is over/);
    expect(client.stderr).to.match(
      /serving get_pods, describe_deployment, get_events, get_pod_logs, observe, act on stdio/,
    );
  });
});
