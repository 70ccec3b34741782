// The MCP server core in-process: lifecycle, JSON-RPC errors, tool listing and calls, and an episode played through
// observe/act on the embedded simulator.
import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { episodeSpec } from '../../../src/arena/episode.js';
import { canonicalScenario } from '../../../src/trace/generate.js';
import { cloneValue } from '../../../src/trace/model.js';
import { createBackend } from '../../../src/sim/index.js';
import { ClusterTools } from '../../../src/mcp/cluster.js';
import { EpisodeSession } from '../../../src/mcp/episode.js';
import {
  checkArguments,
  INVALID_PARAMS,
  LATEST_PROTOCOL_VERSION,
  METHOD_NOT_FOUND,
  NOT_INITIALIZED,
  PARSE_ERROR,
  INVALID_REQUEST,
  type McpServer,
} from '../../../src/mcp/protocol.js';
import { createArenaServer } from '../../../src/mcp/server.js';
import { serveStdio } from '../../../src/mcp/stdio.js';

interface Reply {
  jsonrpc: '2.0';
  id: number | string | null;
  result?: Record<string, unknown> & {
    content?: Array<{ type: string; text: string }>;
    structuredContent?: Record<string, unknown>;
    isError?: boolean;
  };
  error?: { code: number; message: string };
}

async function session(scenario = 'composite'): Promise<EpisodeSession> {
  const s = canonicalScenario(scenario);
  return new EpisodeSession(
    { label: scenario, trace: () => cloneValue(s.trace) },
    episodeSpec({ workload: s.meta.workload, target: s.meta.target, maxSteps: 8, seed: 1 }),
    await createBackend('embedded'),
  );
}

describe('mcp: protocol and episode tools (in-process)', () => {
  let server: McpServer;
  let id = 0;
  const rpc = async (method: string, params?: unknown) =>
    (await server.handle({ jsonrpc: '2.0', id: ++id, method, ...(params !== undefined ? { params } : {}) })) as Reply;
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await rpc('tools/call', { name, arguments: args })).result!;

  beforeEach(async () => {
    server = createArenaServer({
      session: await session(),
      cluster: new ClusterTools({ kubeconfig: '/nonexistent/kubeconfig' }),
    });
  });

  it('negotiates the protocol version in initialize and answers ping', async () => {
    const before = await rpc('tools/list');
    expect(before.error!.code).to.equal(NOT_INITIALIZED);
    expect((await rpc('ping')).result).to.deep.equal({});
    const init = await rpc('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 't', version: '1' },
    });
    expect(init.result).to.deep.include({
      protocolVersion: '2025-06-18',
      capabilities: { tools: { listChanged: false } },
    });
    expect(init.result!.serverInfo).to.deep.include({ name: 'sim-arena' });
    expect(init.result!.instructions).to.be.a('string');
    const future = await rpc('initialize', { protocolVersion: '2099-01-01', capabilities: {} });
    expect(future.result!.protocolVersion, 'an unknown version gets our latest').to.equal(LATEST_PROTOCOL_VERSION);
    expect(
      await server.handle({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      'notifications get no reply',
    ).to.equal(undefined);
    expect(server.ready).to.equal(true);
  });

  it('answers malformed and unknown requests with JSON-RPC errors', async () => {
    await rpc('initialize', { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {} });
    expect(((await server.handleText('{"jsonrpc": "2.0", "id": 1, "method": ')) as Reply).error!.code).to.equal(
      PARSE_ERROR,
    );
    expect(((await server.handle({ id: 5, method: 'ping' })) as Reply).error).to.deep.include({
      code: INVALID_REQUEST,
    });
    expect((await rpc('resources/subscribe')).error).to.deep.include({
      code: METHOD_NOT_FOUND,
      message: 'method not found: resources/subscribe',
    });
    expect((await rpc('tools/call', { name: 'rm_rf' })).error).to.deep.include({ code: INVALID_PARAMS });
    const batch = (await server.handle([
      { jsonrpc: '2.0', id: 'a', method: 'ping' },
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } },
      { jsonrpc: '2.0', id: 'b', method: 'ping' },
    ])) as Reply[];
    expect(batch.map((r) => r.id)).to.deep.equal(['a', 'b']);
  });

  it('lists the six tools with input schemas', async () => {
    await rpc('initialize', { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {} });
    const tools = (await rpc('tools/list')).result!.tools as Array<{
      name: string;
      description: string;
      inputSchema: { type: string; required?: string[] };
    }>;
    expect(tools.map((t) => t.name)).to.have.members([
      'get_pods',
      'describe_deployment',
      'get_events',
      'get_pod_logs',
      'observe',
      'act',
    ]);
    for (const t of tools) {
      expect(t.inputSchema.type).to.equal('object');
      expect(t.description.length).to.be.greaterThan(20);
    }
    expect(tools.find((t) => t.name === 'get_pod_logs')!.inputSchema.required).to.deep.equal(['namespace', 'pod_name']);
  });

  it('plays an episode with observe and act, reporting errors as tool results the model can read', async () => {
    await rpc('initialize', { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {} });
    const o = await call('observe');
    expect(o.isError).to.equal(false);
    const view = o.structuredContent!;
    expect(JSON.parse(o.content![0]!.text)).to.deep.equal(view);
    expect(view).to.deep.include({
      scenario: 'composite',
      target: 3,
      step: 0,
      maxSteps: 8,
      solved: false,
      done: false,
    });
    expect(view.observation).to.deep.equal({ ready: 0, pending: 5, total: 5 });
    expect(view.resources).to.deep.equal({
      cpu: '250m',
      memory: '33Gi',
      replicas: 5,
      effectiveCpu: '250m',
      effectiveMemory: '33Gi',
    });
    expect(view.cluster).to.deep.equal({ nodes: 3, largestNode: { cpu: '16', memory: '32Gi' } });
    expect((view.actions as unknown[])[5]).to.deep.equal({
      index: 5,
      name: 'reduce-mem',
      description: 'decrease the memory request by 256Mi',
    });

    const bad = await call('act', { action: 'explode' });
    expect(bad.isError).to.equal(true);
    expect(bad.structuredContent!.error).to.match(/^act: unknown action "explode": use a name/);
    expect((await call('act', {})).structuredContent!.error).to.equal('act: missing required argument "action"');
    expect((await call('act', { action: true })).structuredContent!.error).to.match(
      /argument "action" must be string or integer/,
    );

    const plan: Array<string | number> = ['reduce-mem', 5, '-Mem', 'reduce_mem_small', 'scale-down', 6];
    let last: Record<string, unknown> = {};
    for (const a of plan) {
      const r = await call('act', { action: a });
      expect(r.isError, JSON.stringify(r)).to.equal(false);
      last = r.structuredContent!;
    }
    expect(last).to.deep.include({ step: 6, action: 'scale-down', solved: true, done: true });
    expect(last.observation).to.deep.equal({ ready: 3, pending: 0, total: 3 });
    expect((await call('observe')).structuredContent).to.deep.include({ solved: true, stepsToSolve: 6, done: true });
    const over = await call('act', { action: 'noop' });
    expect(over.structuredContent!.error).to.match(
      /the episode is over \(it was solved at step 6\); call observe with reset=true/,
    );
    const again = (await call('observe', { reset: true })).structuredContent!;
    expect(again).to.deep.include({ step: 0, solved: false });
    expect(again.resources).to.deep.include({ memory: '33Gi', replicas: 5 });
  });

  it('stops at maxSteps, and a blocked action says why', async () => {
    await rpc('initialize', { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {} });
    const r = (await call('act', { action: 'bump-mem' })).structuredContent!;
    expect(r).to.deep.include({ blocked: true, changed: false });
    expect(r.blockedReason).to.match(/above the cap of 32Gi/);
    for (let i = 0; i < 7; i++) await call('act', { action: 'noop' });
    expect((await call('act', { action: 'noop' })).structuredContent!.error).to.match(/all 8 steps are used/);
  });

  it('cluster tools fail as tool errors when there is no cluster', async () => {
    await rpc('initialize', { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {} });
    const r = await call('get_pods', { namespace: 'default' });
    expect(r.isError).to.equal(true);
    expect(r.structuredContent!.error).to.match(
      /^get_pods: no cluster to talk to: .*--kubeconfig FILE or set KUBECONFIG/,
    );
  });

  it('without an episode, observe and act say how to start one', async () => {
    server = createArenaServer({ cluster: new ClusterTools() });
    await rpc('initialize', { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {} });
    expect((await call('observe')).structuredContent!.error).to.match(/start it with `sim-arena mcp --scenario NAME`/);
  });

  it('validates flat argument schemas', () => {
    const schema = {
      type: 'object' as const,
      properties: {
        n: { type: 'integer', description: '', minimum: 1 },
        s: { type: 'string', description: '', enum: ['a'] },
      },
      required: ['n'],
      additionalProperties: false,
    };
    expect(checkArguments(schema, { n: 2, s: 'a' })).to.equal(undefined);
    expect(checkArguments(schema, { n: 1.5 })).to.match(/"n" must be integer/);
    expect(checkArguments(schema, { n: 0 })).to.match(/at least 1/);
    expect(checkArguments(schema, { n: 1, s: 'b' })).to.match(/one of "a"/);
    expect(checkArguments(schema, { n: 1, x: 1 })).to.match(/unknown argument "x"/);
  });

  it('frames messages as one JSON object per line on the stdio transport, in order', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (b: Buffer) => (text += b.toString()));
    const done = serveStdio(server, input, output);
    input.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2024-11-05', capabilities: {} } })}\n`,
    );
    input.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n\n`);
    input.write(
      `${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'act', arguments: { action: 'reduce-mem' } } })}\r\n`,
    );
    input.end(`${JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' })}\n`);
    await done;
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Reply);
    expect(lines.map((l) => l.id)).to.deep.equal([1, 2, 3]);
    expect(lines[0]!.result!.protocolVersion).to.equal('2024-11-05');
    expect(lines[1]!.result!.structuredContent).to.deep.include({ step: 1, action: 'reduce-mem' });
  });
});
