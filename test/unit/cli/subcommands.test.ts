import { expect } from 'chai';
import { UsageError } from '../../../src/cli/errors.js';
import { runSubcommand } from '../../../src/cli/subcommands.js';

describe('cli command groups (runSubcommand)', () => {
  const quiet = <T>(fn: () => Promise<T>): Promise<T> => {
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    return fn().finally(() => {
      process.stdout.write = write;
    });
  };
  const seen: string[][] = [];
  const commands = { synth: (argv: string[]) => (seen.push(argv), 7) };

  it('passes the remaining arguments to the named subcommand and returns its exit code', async () => {
    expect(await runSubcommand('usage', commands, 'USAGE', ['synth', '--seed', '3'])).to.equal(7);
    expect(seen.at(-1)).to.deep.equal(['--seed', '3']);
  });

  it('no subcommand is a usage error (2); -h and --help print the usage and succeed', async () => {
    expect(await quiet(() => runSubcommand('usage', commands, 'USAGE', []))).to.equal(2);
    expect(await quiet(() => runSubcommand('usage', commands, 'USAGE', ['-h']))).to.equal(0);
    expect(await quiet(() => runSubcommand('usage', commands, 'USAGE', ['--help']))).to.equal(0);
  });

  it('an unknown subcommand (an Object.prototype name included) names itself and the group', async () => {
    for (const sub of ['bogus', 'toString', '__proto__']) {
      const err = await runSubcommand('usage', commands, 'USAGE', [sub]).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(UsageError);
      expect((err as Error).message).to.match(new RegExp(`^unknown usage command "${sub}"\\nUSAGE$`));
    }
  });
});
