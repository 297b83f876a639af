/**
 * W4 and W6 against PyTorch: runs each configuration in its own process on both sides, so every peak RSS belongs to
 * one configuration (ru_maxrss only grows), and writes bench/results/<date>-w4-vs-torch.json with both measurements
 * and the ratios rankwise / PyTorch (time per step, peak RSS).
 *
 *   node --conditions=source --import tsx bench/w4-compare.ts [--torch ../shared/bench/torch_llama.py]
 *        [--python /usr/bin/python3] [--backend native] [--only full,lora-qv,lora-all]
 *   … --only lora-qv,lora-qv-ckpt,lora-qv-ckpt-nf4,w6-lora-qv-ckpt-nf4     # checkpointing, QLoRA, W6 (pnpm bench:qlora)
 *
 * PyTorch has no NF4 here (bitsandbytes needs CUDA): the quantized configurations are compared with PyTorch's float32
 * run with torch.utils.checkpoint, which is what the issue's targets are stated against.
 *
 * OPENBLAS_CORETYPE is set for both from /proc/cpuinfo the way the native backend chooses it (an inherited value is
 * replaced: it may name an older core type than the CPU has), or to --coretype.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { chooseCoretype } from '../packages/backend-native/src/coretype.js';

/** The reference lives beside the repository, in the shared folder next to the checkout. */
const DEFAULT_TORCH = relative(process.cwd(), fileURLToPath(new URL('../../shared/bench/torch_llama.py', import.meta.url)));

const opts = new Command('w4-compare')
  .option('--torch <file>', 'the PyTorch script (default: shared/bench/torch_llama.py beside the repository)', DEFAULT_TORCH)
  .option('--python <exe>', 'python with torch', '/usr/bin/python3')
  .option('--backend <name>', 'rankwise backend', 'native')
  .option('--only <configs>', 'configurations', 'full,lora-qv,lora-all')
  .option('--steps <n>', 'timed steps on each side', '3')
  .option('--layers <n>', 'decoder layers (30 = SmolLM2-135M; fewer for a smoke run)', '30')
  .option('--coretype <name>', 'OPENBLAS_CORETYPE for both sides (default: from /proc/cpuinfo, as the native backend chooses)')
  .option('--out <dir>', 'results directory', 'bench/results')
  .option('--tag <name>', 'appended to the results file name (e.g. qlora)')
  .parse()
  .opts<{ torch: string; python: string; backend: string; only: string; steps: string; layers: string; coretype?: string; out: string; tag?: string }>();

// The real core type from /proc/cpuinfo (an inherited OPENBLAS_CORETYPE may name an older one); --coretype overrides.
const coretype = opts.coretype ? { coretype: opts.coretype, source: 'option', detail: '--coretype' } : chooseCoretype({});
const env = {
  ...process.env,
  W4_LAYERS: opts.layers,
  W4_STEPS: opts.steps,
  W6_STEPS: opts.steps,
  ...(opts.layers === '30' ? {} : { W6_LAYERS: opts.layers }),
  ...(coretype.coretype ? { OPENBLAS_CORETYPE: coretype.coretype } : {}),
};
console.log(
  `OPENBLAS_CORETYPE=${env.OPENBLAS_CORETYPE ?? '(OpenBLAS detects)'} (${coretype.source}: ${coretype.detail}); load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);

interface Side {
  msPerStep: { median: number; min: number; max: number };
  tokensPerSec: number;
  peakRssMiB: number;
  trainableParams: number;
}

/** Each configuration: the rankwise workload id and the PyTorch script's arguments (its JSON is keyed by --only). */
const CONFIGS: Record<string, { workload: string; torch: string[]; shape: 'w4' | 'w6' }> = {
  full: { workload: 'W4-full', torch: ['--only', 'full'], shape: 'w4' },
  'lora-qv': { workload: 'W4-lora-qv', torch: ['--only', 'lora-qv'], shape: 'w4' },
  'lora-all': { workload: 'W4-lora-all', torch: ['--only', 'lora-all'], shape: 'w4' },
  'lora-qv-ckpt': { workload: 'W4-lora-qv-ckpt', torch: ['--only', 'lora-qv', '--checkpoint'], shape: 'w4' },
  'lora-qv-ckpt-nf4': { workload: 'W4-lora-qv-ckpt-nf4', torch: ['--only', 'lora-qv', '--checkpoint'], shape: 'w4' },
  'w6-lora-qv-ckpt-nf4': {
    workload: 'W6-lora-qv-ckpt-nf4',
    torch: ['--shape', 'qwen2.5-1.5b', '--only', 'lora-qv', '--batch', '1', '--seq', '512', '--checkpoint'],
    shape: 'w6',
  },
};
for (const config of opts.only.split(',')) {
  if (!CONFIGS[config]) {
    console.error(`✖ --only: found "${config}", allowed: ${Object.keys(CONFIGS).join(', ')}`);
    process.exit(2);
  }
}

const results: Record<string, { torch: Side; rankwise: Side; ratio: { msPerStep: number; peakRss: number } }> = {};
mkdirSync(opts.out, { recursive: true });
const smoke = opts.layers === '30' ? '' : `-layers${opts.layers}`;
const file = join(opts.out, `${new Date().toISOString().slice(0, 10)}-w4-vs-torch${smoke}${opts.tag ? `-${opts.tag}` : ''}.json`);
/** Written after every configuration, so a long run that is stopped keeps what it measured. */
function save(): void {
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        workload: 'W4',
        layers: Number(opts.layers),
        steps: Number(opts.steps),
        date: new Date().toISOString(),
        backend: opts.backend,
        openblasCoretype: env.OPENBLAS_CORETYPE ?? null,
        cpus: cpus().length,
        cpu: cpus()[0]?.model,
        loadAverage: loadavg(),
        note: 'ratio = rankwise / PyTorch (below 1: rankwise faster or smaller); each configuration in its own process on both sides; other jobs shared the CPUs, so times are noisy',
        results,
      },
      null,
      2,
    )}\n`,
  );
}
for (const config of opts.only.split(',')) {
  const { workload, torch: torchArgs, shape } = CONFIGS[config];
  const layers = shape === 'w4' || opts.layers !== '30' ? ['--layers', opts.layers] : [];
  const torchRun = spawnSync(opts.python, [opts.torch, ...torchArgs, '--steps', opts.steps, '--warmup', '1', ...layers], { encoding: 'utf8', env });
  if (torchRun.status !== 0) throw new Error(`PyTorch ${config} failed:\n${torchRun.stderr}`);
  const torch = (JSON.parse(torchRun.stdout.trim().split('\n').pop()!) as Record<string, Side>)[torchArgs[torchArgs.indexOf('--only') + 1]];
  console.log(`torch    ${config}: ${torch.msPerStep.median} ms/step, peak ${torch.peakRssMiB} MiB`);
  const out = mkdtempSync(join(tmpdir(), 'rankwise-w4-'));
  const ours = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', 'bench/run.ts', '--backend', opts.backend, '--workload', workload, '--out', out],
    { encoding: 'utf8', env },
  );
  if (ours.status !== 0) throw new Error(`rankwise ${workload} failed:\n${ours.stderr}`);
  const benchFile = readdirSync(out).find((f) => f.endsWith('.json'))!;
  const w = (
    JSON.parse(readFileSync(join(out, benchFile), 'utf8')) as {
      workloads: Array<{ msPerStep: Side['msPerStep']; tokensPerSec: number; peakRssBytes: number; trainableParams: number }>;
    }
  ).workloads[0];
  const rankwise: Side = {
    msPerStep: w.msPerStep,
    tokensPerSec: w.tokensPerSec,
    peakRssMiB: Math.round(w.peakRssBytes / 2 ** 20),
    trainableParams: w.trainableParams,
  };
  console.log(`rankwise ${config}: ${rankwise.msPerStep.median.toFixed(1)} ms/step, peak ${rankwise.peakRssMiB} MiB`);
  results[config] = {
    torch,
    rankwise,
    ratio: { msPerStep: rankwise.msPerStep.median / torch.msPerStep.median, peakRss: rankwise.peakRssMiB / torch.peakRssMiB },
  };
  save();
  console.log(`wrote ${file}`);
}
