import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseAge, pruneStore } from '@rankwise/grid';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { UsageError } from '../options.js';

interface PruneFlags {
  store?: string;
  olderThan: string;
  includeBases?: boolean;
  dryRun?: boolean;
}

export function storeCommand(program: Command, done: (code: ExitCode) => void): void {
  const store = program.command('store').description('the shared store of queued grids (--queue … --store)');
  store
    .command('prune')
    .description('remove cell folders that never came back, collected outputs and temp copies older than --older-than (bases only with --include-bases)')
    .requiredOption('--store <dir>', "the shared store (the coordinator's --store, default <out>/queue-store)")
    .option('--older-than <age>', 'keep anything changed more recently: 7d, 12h, 30m, 45s or 0', '7d')
    .option('--include-bases', 'also remove published base checkpoints (a grid still running needs its base)')
    .option('--dry-run', 'list what would be removed, remove nothing')
    .action(async (flags: PruneFlags) => done(await pruneCommand(flags)));
}

const MIB = 1024 * 1024;

async function pruneCommand(flags: PruneFlags): Promise<ExitCode> {
  const olderThanMs = parseAge(flags.olderThan);
  if (olderThanMs === null)
    throw new UsageError(`--older-than: found "${flags.olderThan}", allowed: a whole number with d, h, m or s (7d, 12h, 30m, 45s), or 0`);
  let pruned;
  try {
    pruned = await pruneStore(resolve(flags.store ?? ''), { olderThanMs, includeBases: flags.includeBases, dryRun: flags.dryRun });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const verb = flags.dryRun ? 'would remove' : 'removed';
  for (const p of pruned) console.log(`${verb} ${p.path} (${p.kind}, ${(p.bytes / MIB).toFixed(1)} MiB, last changed ${new Date(p.newest).toISOString()})`);
  const total = pruned.reduce((sum, p) => sum + p.bytes, 0);
  console.log(`store prune: ${verb} ${pruned.length} ${pruned.length === 1 ? 'entry' : 'entries'}, ${(total / MIB).toFixed(1)} MiB`);
  return EXIT.ok;
}
