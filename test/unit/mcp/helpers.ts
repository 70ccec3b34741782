// Runs `sim-arena mcp` directly, for when src/cli/main.ts does not dispatch the mcp command yet.
import { mcpCommand } from '../../../src/cli/mcp.js';

process.exitCode = await mcpCommand(process.argv.slice(2));
