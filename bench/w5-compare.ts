/**
 * W5 against PyTorch: /work/shared/bench/torch_generate.py and bench/w5-generate.ts run back to back, alternating,
 * `--rounds` times (each side in its own process, so each peak RSS is one run's), plus a read-bandwidth probe; writes
 * bench/results/<date>-w5-vs-torch.json with every measurement, the medians and the ratios rankwise / PyTorch.
 *
 *   node --conditions=source --import tsx bench/w5-compare.ts [--rounds 2] [--torch /work/shared/bench/torch_generate.py]
 *        [--python /usr/bin/python3] [--backend native] [--layers 30]
 *
 * OPENBLAS_CORETYPE is set for both from /proc/cpuinfo the way the native backend chooses it (as bench/w4-compare.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { chooseCoretype } from '../packages/backend-native/src/coretype.js';

const opts = new Command('w5-compare')
  .option('--torch <file>', 'the PyTorch script', '/work/shared/bench/torch_generate.py')
  .option('--python <exe>', 'python with torch', '/usr/bin/python3')
  .option('--backend <name>', 'rankwise backend', 'native')
  .option('--rounds <n>', 'back-to-back rounds (PyTorch, then rankwise)', '2')
  .option('--layers <n>', 'decoder layers (30 = SmolLM2-135M; fewer for a smoke run)', '30')
  .option('--coretype <name>', 'OPENBLAS_CORETYPE for both sides (default: from /proc/cpuinfo, as the native backend chooses)')
  .option('--out <dir>', 'results directory', 'bench/results')
  .parse()
  .opts<{ torch: string; python: string; backend: string; rounds: string; layers: string; coretype?: string; out: string }>();

const coretype = opts.coretype ? { coretype: opts.coretype, source: 'option', detail: '--coretype' } : chooseCoretype({});
const env = { ...process.env, ...(coretype.coretype ? { OPENBLAS_CORETYPE: coretype.coretype } : {}) };
console.log(
  `OPENBLAS_CORETYPE=${env.OPENBLAS_CORETYPE ?? '(OpenBLAS detects)'} (${coretype.source}: ${coretype.detail}); load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);

interface BatchResult {
  prefillTokensPerSec: number;
  decodeTokensPerSec: number;
  msPerDecodeStep: number;
  prefillMs: number;
}
type Side = { batch1: BatchResult; batch8: BatchResult; peakRssMiB: number; loadAverageBefore: number[] } & Record<string, unknown>;

function lastJson(run: ReturnType<typeof spawnSync>, what: string): Record<string, unknown> {
  if (run.status !== 0) throw new Error(`${what} failed:\n${String(run.stderr)}`);
  return JSON.parse(String(run.stdout).trim().split('\n').pop()!) as Record<string, unknown>;
}

const rounds: Array<{ torch: Side; rankwise: Side }> = [];
const bandwidth: number[] = [];
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
mkdirSync(opts.out, { recursive: true });
const smoke = opts.layers === '30' ? '' : `-layers${opts.layers}`;
const file = join(opts.out, `${new Date().toISOString().slice(0, 10)}-w5-vs-torch${smoke}.json`);
const rankwiseArgs = ['--conditions=source', '--import', 'tsx', 'bench/w5-generate.ts', '--backend', opts.backend, '--layers', opts.layers];

function save(): void {
  const keys = ['prefillTokensPerSec', 'decodeTokensPerSec', 'msPerDecodeStep'] as const;
  const summary: Record<string, unknown> = {};
  for (const b of ['batch1', 'batch8'] as const) {
    for (const k of keys) {
      const torch = median(rounds.map((r) => r.torch[b][k]));
      const ours = median(rounds.map((r) => r.rankwise[b][k]));
      summary[`${b}.${k}`] = { torch, rankwise: ours, ratio: Math.round((ours / torch) * 100) / 100 };
    }
  }
  const torchPeak = median(rounds.map((r) => r.torch.peakRssMiB));
  const oursPeak = median(rounds.map((r) => r.rankwise.peakRssMiB));
  summary.peakRssMiB = { torch: torchPeak, rankwise: oursPeak, ratio: Math.round((oursPeak / torchPeak) * 100) / 100 };
  const weightBytes = rounds[0]?.rankwise.weightBytes as number | undefined;
  const bw = median(bandwidth);
  if (weightBytes && bw) {
    const limit = bw / (weightBytes / 1e9);
    summary.bandwidth = {
      readGBps: bw,
      weightBytes,
      decodeLimitTokensPerSec: Math.round(limit * 10) / 10,
      rankwiseBatch1OfLimit: Math.round(((summary['batch1.decodeTokensPerSec'] as { rankwise: number }).rankwise / limit) * 100) / 100,
      torchBatch1OfLimit: Math.round(((summary['batch1.decodeTokensPerSec'] as { torch: number }).torch / limit) * 100) / 100,
    };
  }
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        workload: 'W5',
        layers: Number(opts.layers),
        date: new Date().toISOString(),
        backend: opts.backend,
        openblasCoretype: env.OPENBLAS_CORETYPE ?? null,
        cpus: cpus().length,
        cpu: cpus()[0]?.model,
        note: 'ratio = rankwise / PyTorch (tokens/s above 1: rankwise faster; peak RSS below 1: rankwise smaller); medians over rounds run back to back (PyTorch, then rankwise, each in its own process); the 2 cores were shared with other jobs, so times are noisy (loadAverageBefore per run)',
        summary,
        readBandwidthGBps: bandwidth,
        rounds,
      },
      null,
      2,
    )}\n`,
  );
}

for (let r = 0; r < Number(opts.rounds); r++) {
  const torchLoad = loadavg();
  const torch = {
    ...lastJson(spawnSync(opts.python, [opts.torch, '--layers', opts.layers], { encoding: 'utf8', env }), 'PyTorch'),
    loadAverageBefore: torchLoad,
  } as Side;
  console.log(
    `round ${r + 1} torch    b1 decode ${torch.batch1.decodeTokensPerSec} tok/s, prefill ${torch.batch1.prefillTokensPerSec}; b8 decode ${torch.batch8.decodeTokensPerSec}, prefill ${torch.batch8.prefillTokensPerSec}; peak ${torch.peakRssMiB} MiB`,
  );
  const oursLoad = loadavg();
  const rankwise = { ...lastJson(spawnSync(process.execPath, rankwiseArgs, { encoding: 'utf8', env }), 'rankwise'), loadAverageBefore: oursLoad } as Side;
  console.log(
    `round ${r + 1} rankwise b1 decode ${rankwise.batch1.decodeTokensPerSec} tok/s, prefill ${rankwise.batch1.prefillTokensPerSec}; b8 decode ${rankwise.batch8.decodeTokensPerSec}, prefill ${rankwise.batch8.prefillTokensPerSec}; peak ${rankwise.peakRssMiB} MiB`,
  );
  rounds.push({ torch, rankwise });
  bandwidth.push(lastJson(spawnSync(process.execPath, [...rankwiseArgs, '--bandwidth'], { encoding: 'utf8', env }), 'bandwidth').readBandwidthGBps as number);
  save();
}
console.log(`wrote ${file}`);
