import winston from 'winston';

export type Logger = winston.Logger;

let root: winston.Logger | undefined;

function rootLogger(): winston.Logger {
  if (root) return root;
  const json = process.env.LOG_FORMAT === 'json';
  const readable = winston.format.printf(({ level, message, timestamp, component, ...rest }) => {
    const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
    const where = component ? ` [${String(component)}]` : '';
    return `${String(timestamp)} ${level}${where} ${String(message)}${extra}`;
  });
  root = winston.createLogger({
    level: process.env.LOG_LEVEL ?? 'info',
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      winston.format.timestamp(),
      json ? winston.format.json() : readable,
    ),
    // Everything goes to stderr so command output on stdout stays machine-readable.
    transports: [new winston.transports.Console({ stderrLevels: Object.keys(winston.config.npm.levels) })],
  });
  return root;
}

/** A logger tagged with `component`; level from LOG_LEVEL (default info), JSON when LOG_FORMAT=json. */
export function createLogger(component: string): Logger {
  return rootLogger().child({ component });
}

/** A logger that drops everything; handy in tests. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true });
}
