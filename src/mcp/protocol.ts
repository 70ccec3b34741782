// A Model Context Protocol server core: JSON-RPC 2.0 messages in, responses out, with the MCP lifecycle
// (initialize → notifications/initialized → operation), ping, tools/list and tools/call. Transport-agnostic;
// stdio.ts frames it as newline-delimited JSON on stdin/stdout (the MCP stdio transport).
//
// Tool failures (bad arguments, a cluster that cannot be reached, an episode that is over) come back as a tools/call
// *result* with isError: true and a message the model can read and act on, as the MCP spec asks. Protocol failures
// (unknown method, unknown tool, malformed JSON-RPC) are JSON-RPC errors.

export const SUPPORTED_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'] as const;
export const LATEST_PROTOCOL_VERSION = SUPPORTED_PROTOCOL_VERSIONS[0];

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
/** Not in JSON-RPC: a request other than initialize/ping before initialization. */
export const NOT_INITIALIZED = -32002;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };
type Id = string | number;

export interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: Id | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export interface ToolSchema {
  type: 'object';
  properties: Record<
    string,
    {
      type: string | string[];
      description: string;
      enum?: unknown[];
      minimum?: number;
      maximum?: number;
      default?: unknown;
      oneOf?: unknown[];
    }
  >;
  required?: string[];
  additionalProperties?: boolean;
}

export interface ToolResult {
  /** what the model reads (also sent as structuredContent) */
  data: unknown;
  isError?: boolean;
}

export interface Tool {
  name: string;
  title: string;
  description: string;
  inputSchema: ToolSchema;
  annotations?: {
    readOnlyHint?: boolean;
    destructiveHint?: boolean;
    idempotentHint?: boolean;
    openWorldHint?: boolean;
  };
  call(args: Record<string, unknown>): Promise<ToolResult>;
}

/** Thrown by a tool for a failure the model should see as a tool error (isError result), e.g. a bad argument. */
export class ToolError extends Error {
  override name = 'ToolError';
  constructor(
    message: string,
    readonly data?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export interface ServerInfo {
  name: string;
  version: string;
  title?: string;
  instructions?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Check tool arguments against the tool's (flat) input schema; returns an error message or undefined. */
export function checkArguments(schema: ToolSchema, args: Record<string, unknown>): string | undefined {
  for (const r of schema.required ?? [])
    if (args[r] === undefined || args[r] === null) return `missing required argument "${r}"`;
  for (const [k, v] of Object.entries(args)) {
    const p = schema.properties[k];
    if (!p) {
      if (schema.additionalProperties === false)
        return `unknown argument "${k}" (arguments: ${Object.keys(schema.properties).join(', ') || 'none'})`;
      continue;
    }
    if (v === undefined || v === null) continue;
    const types = Array.isArray(p.type) ? p.type : [p.type];
    const ok = types.some((t) =>
      t === 'integer'
        ? Number.isInteger(v)
        : t === 'number'
          ? typeof v === 'number' && Number.isFinite(v)
          : t === 'array'
            ? Array.isArray(v)
            : t === 'object'
              ? isObject(v)
              : typeof v === t,
    );
    if (!ok) return `argument "${k}" must be ${types.join(' or ')}, got ${JSON.stringify(v)}`;
    if (typeof v === 'number' && p.minimum !== undefined && v < p.minimum)
      return `argument "${k}" must be at least ${p.minimum}, got ${v}`;
    if (typeof v === 'number' && p.maximum !== undefined && v > p.maximum)
      return `argument "${k}" must be at most ${p.maximum}, got ${v}`;
    if (p.enum && !p.enum.includes(v))
      return `argument "${k}" must be one of ${p.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(v)}`;
  }
  return undefined;
}

export class McpServer {
  private readonly tools = new Map<string, Tool>();
  private initialized = false;
  protocolVersion: string | undefined;
  clientInfo: unknown;

  constructor(readonly info: ServerInfo) {}

  addTool(t: Tool): void {
    if (this.tools.has(t.name)) throw new Error(`tool ${t.name} registered twice`);
    this.tools.set(t.name, t);
  }

  toolNames(): string[] {
    return [...this.tools.keys()];
  }

  /** Handle one parsed message (or a batch); returns what to send back, or undefined for notifications. */
  async handle(msg: unknown): Promise<JsonRpcResponse | JsonRpcResponse[] | undefined> {
    if (Array.isArray(msg)) {
      if (msg.length === 0) return errorResponse(null, INVALID_REQUEST, 'empty batch');
      const out: JsonRpcResponse[] = [];
      for (const m of msg) {
        const r = await this.handleOne(m);
        if (r) out.push(r);
      }
      return out.length ? out : undefined;
    }
    return this.handleOne(msg);
  }

  /** Handle a raw line of text (parse errors answered as JSON-RPC says). */
  async handleText(text: string): Promise<JsonRpcResponse | JsonRpcResponse[] | undefined> {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (e) {
      return errorResponse(null, PARSE_ERROR, `parse error: ${(e as Error).message}`);
    }
    return this.handle(msg);
  }

  private async handleOne(m: unknown): Promise<JsonRpcResponse | undefined> {
    if (!isObject(m) || m.jsonrpc !== '2.0')
      return errorResponse(
        isObject(m) && validId(m.id) ? (m.id as Id) : null,
        INVALID_REQUEST,
        'not a JSON-RPC 2.0 message',
      );
    const hasId = 'id' in m;
    if (typeof m.method !== 'string') {
      // A response from the client (we never send requests) is ignored.
      if (hasId && ('result' in m || 'error' in m)) return undefined;
      return errorResponse(validId(m.id) ? (m.id as Id) : null, INVALID_REQUEST, 'missing method');
    }
    if (!hasId) {
      this.notification(m.method);
      return undefined;
    }
    if (!validId(m.id)) return errorResponse(null, INVALID_REQUEST, 'id must be a string or an integer');
    const id = m.id as Id;
    const params = m.params === undefined ? {} : m.params;
    if (!isObject(params)) return errorResponse(id, INVALID_PARAMS, 'params must be an object');
    try {
      return { jsonrpc: '2.0', id, result: await this.request(m.method, params) };
    } catch (e) {
      if (e instanceof RpcError) return errorResponse(id, e.code, e.message, e.data);
      return errorResponse(id, INTERNAL_ERROR, `internal error: ${(e as Error).message}`);
    }
  }

  private notification(method: string): void {
    if (method === 'notifications/initialized') this.initialized = true;
    // notifications/cancelled and others: nothing to do (requests are answered in order, quickly).
  }

  private async request(method: string, params: Record<string, unknown>): Promise<unknown> {
    switch (method) {
      case 'initialize':
        return this.initialize(params);
      case 'ping':
        return {};
    }
    if (this.protocolVersion === undefined)
      throw new RpcError(NOT_INITIALIZED, `server not initialized: send initialize before ${method}`);
    switch (method) {
      case 'tools/list':
        return {
          tools: [...this.tools.values()].map((t) => ({
            name: t.name,
            title: t.title,
            description: t.description,
            inputSchema: t.inputSchema,
            ...(t.annotations ? { annotations: t.annotations } : {}),
          })),
        };
      case 'tools/call':
        return this.callTool(params);
      case 'resources/list':
        return { resources: [] };
      case 'prompts/list':
        return { prompts: [] };
      default:
        throw new RpcError(METHOD_NOT_FOUND, `method not found: ${method}`);
    }
  }

  private initialize(params: Record<string, unknown>) {
    const requested = typeof params.protocolVersion === 'string' ? params.protocolVersion : undefined;
    if (!requested) throw new RpcError(INVALID_PARAMS, 'initialize needs params.protocolVersion');
    // Answer with the client's version when we speak it, else with our latest (the client then decides).
    this.protocolVersion = (SUPPORTED_PROTOCOL_VERSIONS as readonly string[]).includes(requested)
      ? requested
      : LATEST_PROTOCOL_VERSION;
    this.clientInfo = params.clientInfo;
    return {
      protocolVersion: this.protocolVersion,
      capabilities: { tools: { listChanged: false } },
      serverInfo: {
        name: this.info.name,
        version: this.info.version,
        ...(this.info.title ? { title: this.info.title } : {}),
      },
      ...(this.info.instructions ? { instructions: this.info.instructions } : {}),
    };
  }

  get ready(): boolean {
    return this.initialized;
  }

  private async callTool(params: Record<string, unknown>) {
    const name = params.name;
    if (typeof name !== 'string') throw new RpcError(INVALID_PARAMS, 'tools/call needs params.name');
    const tool = this.tools.get(name);
    if (!tool) throw new RpcError(INVALID_PARAMS, `unknown tool: ${name} (tools: ${this.toolNames().join(', ')})`);
    const args = params.arguments === undefined || params.arguments === null ? {} : params.arguments;
    if (!isObject(args)) return toolError('arguments must be an object');
    const bad = checkArguments(tool.inputSchema, args);
    if (bad) return toolError(`${name}: ${bad}`);
    try {
      const r = await tool.call(args);
      return toolResult(r.data, r.isError === true);
    } catch (e) {
      if (e instanceof ToolError) return toolError(`${name}: ${e.message}`, e.data);
      return toolError(`${name} failed: ${(e as Error).message}`);
    }
  }
}

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

function validId(id: unknown): boolean {
  return typeof id === 'string' || (typeof id === 'number' && Number.isInteger(id));
}

function errorResponse(id: Id | null, code: number, message: string, data?: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: { code, message, ...(data !== undefined ? { data } : {}) } };
}

function toolResult(data: unknown, isError: boolean) {
  const structured = isObject(data) ? { structuredContent: data } : {};
  return {
    content: [{ type: 'text', text: typeof data === 'string' ? data : JSON.stringify(data) }],
    ...structured,
    isError,
  };
}

function toolError(message: string, data?: Record<string, unknown>) {
  return toolResult({ error: message, ...(data ?? {}) }, true);
}
