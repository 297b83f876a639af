import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { BACKEND_REQUESTS, createRankwise, defaultModuleLoader, PipelineValidationError, type ModuleLoader, type ProgressReporter } from '@rankwise/core';
import { LineProgress, ResumeError, SilentProgress } from '@rankwise/core/runs';
import { DEFAULT_ATTEMPTS, gridSection } from '@rankwise/grid';
import { RUN_OBSERVERS } from '@rankwise/observe';
import { convertCommand } from './commands/convert.js';
import { adaptersCommand } from './commands/adapters.js';
import { listCommand } from './commands/list.js';
import { newCommand } from './commands/new.js';
import { runsCommand } from './commands/runs.js';
import { compareCommand, reportCommand } from './commands/run-report.js';
import { uiCommand } from './commands/ui.js';
import { schemaCommand } from './commands/schema.js';
import { storeCommand } from './commands/store.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import { workerCommand, workerOptions } from './commands/worker.js';
import { chatCommand, CHAT_DEFAULT_MAX_NEW, type ChatFlags } from './commands/chat.js';
import { generateCommand, GENERATE_DEFAULT_MAX_NEW, type GenerateFlags } from './commands/generate.js';
import { samplingOptions } from './generate/sampling-flags.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import { expandFiles } from './expand-files.js';
import { parseRunFlags, UsageError, type CommonRunFlags } from './options.js';
import { TerminalProgress } from './progress-bar.js';
import { printIssues } from './validate-files.js';

/** Optional packages are looked up from the CLI's own dependencies first, then as core does. */
const cliLoader: ModuleLoader = async (specifier) => {
  try {
    return await import(specifier);
  } catch {
    return defaultModuleLoader(specifier);
  }
};

/** Plugin packages not found from the pipeline's folder upwards are looked up where the CLI is installed. */
const CLI_INSTALL_DIR = fileURLToPath(new URL('.', import.meta.url));
const cliRankwise = (progress: ProgressReporter) =>
  createRankwise({ progress, loader: cliLoader, pluginDirs: [CLI_INSTALL_DIR], sections: [gridSection], observers: [...RUN_OBSERVERS] });

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function runOptions(command: Command): Command {
  return command
    .option('--out <dir>', 'root of run directories', 'runs')
    .addOption(new Option('--backend <name>', `TensorFlow.js backend (${BACKEND_REQUESTS.join(', ')})`))
    .option('--seed <n>', 'seed for init, data order and dropout (overrides the file)')
    .option('--set <path=value>', 'override a field: --set stages.3.steps=100 or --set /stages/3/optimizer/lr=0.001 (repeatable)', collect, [])
    .option('--force', 'recompute results that are cached (from-pipelines, grid cells)')
    .option('--workers <n>', 'grid cells in parallel worker processes', '1')
    .option('--queue <redis-url>', 'grid cells on a BullMQ queue at redis://host:port[/db], run by `rankwise worker`s (see README)')
    .option('--store <dir>', 'with --queue: the shared directory (same share on every machine) for the base and large outputs (default <out>/queue-store)')
    .option('--attempts <n>', `with --queue: attempts per cell before it is reported failed (default ${DEFAULT_ATTEMPTS})`)
    .option('--quiet', 'no progress output')
    .option('--verbose', 'the long story in logs: each backend passed over with everything it tried (sets RANKWISE_VERBOSE=1)')
    .option('--resume [run]', 'continue an unfinished run from its last checkpoint: a run folder, or "latest" (the default: the newest unfinished run)');
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code. */
export async function main(argv: string[], signal: AbortSignal = new AbortController().signal): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  const program = new Command('rankwise')
    .description('Declarative LoRA fine-tuning for TensorFlow.js: run, validate and list pipeline files.')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  runOptions(program.command('run').description('validate, then run pipeline files in order').argument('<files...>', 'pipeline files or globs')).action(
    async (files: string[], flags: CommonRunFlags) => {
      const parsed = parseRunFlags(flags);
      if (flags.verbose) process.env.RANKWISE_VERBOSE = '1'; // read by describeBackend, here and in worker processes
      const progress = parsed.quiet ? new SilentProgress() : process.stdout.isTTY ? new TerminalProgress() : new LineProgress();
      const rankwise = cliRankwise(progress);
      code = await runCommand(rankwise, await expandFiles(files), parsed, signal);
    },
  );

  program
    .command('validate')
    .description('check pipeline files (schema, plugins and their options, from-chains, data vs model) without running')
    .argument('<files...>', 'pipeline files or globs')
    .option('--set <path=value>', 'apply overrides before validating (repeatable)', collect, [])
    .action(async (files: string[], flags: { set: string[] }) => {
      const parsed = parseRunFlags({ out: 'runs', set: flags.set });
      code = await validateCommand(cliRankwise(new SilentProgress()), await expandFiles(files), parsed.overrides);
    });

  workerOptions(program.command('worker').description('run grid cells from a BullMQ queue (`rankwise run grid.json --queue …` fills it)')).action(
    async (flags: Record<string, string | undefined>) => {
      code = await workerCommand(flags, signal);
    },
  );

  program
    .command('runs')
    .description('run folders with their status: completed, failed, interrupted, running, abandoned')
    .argument('[pipelines...]', 'pipeline names or files (default: every pipeline under --out); with --compare, run folders')
    .option('--out <dir>', 'root of run directories', 'runs')
    .option('--compare', 'compare the run folders given: the settings that differ and their metrics')
    .action(async (pipelines: string[], flags: { out: string; compare?: boolean }) => {
      code = flags.compare ? await compareCommand(pipelines) : await runsCommand(pipelines, flags.out);
    });

  // observing runs (@rankwise/observe): report.html, the dashboard
  program
    .command('report')
    .description("rebuild a run folder's report.html; with several run folders, one page with their curves overlaid")
    .argument('<runs...>', 'run folders')
    .option('--output <file>', 'write the page here (default: <run>/report.html for one run, runs-report.html for several)')
    .action(async (dirs: string[], flags: { output?: string }) => {
      code = await reportCommand(dirs, flags.output);
    });
  program
    .command('ui')
    .description('a local web dashboard of the runs under --out: live curves, side-by-side runs, grids')
    .option('--out <dir>', 'root of run directories', 'runs')
    .option('--host <host>', 'address to listen on (default loopback only)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free one)', '6060')
    .action(async (flags: { out: string; host: string; port: string }) => {
      code = await uiCommand(flags, signal);
    });

  program
    .command('list')
    .description('pipelines found, plugins this folder can use (and where each is installed), architectures')
    .argument('[globs...]', 'where to look for pipelines (default pipelines/**/*.json)')
    .action(async (globs: string[]) => {
      code = await listCommand(cliRankwise(new SilentProgress()), globs);
    });

  program
    .command('schema')
    .description('write the pipeline JSON Schema: the stages, and the options of the placement plugins and stage packages installed here')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (flags: { out?: string }) => {
      code = await schemaCommand(cliRankwise(new SilentProgress()), flags.out);
    });

  program
    .command('new')
    .description('scaffold a package: a placement plugin, a stage or a dataset (TypeScript source, types, a test, README)')
    .argument('<kind>', 'plugin, stage or dataset')
    .argument('<name>', 'its npm package name: rankwise-placement-x, rankwise-stage-x, rankwise-dataset-x, @scope/x')
    .option('--dir <dir>', 'where to write it (default: ./<name without scope>; must be new or empty)')
    .action(async (kind: string, name: string, flags: { dir?: string }) => {
      code = await newCommand(kind, name, flags);
    });

  storeCommand(program, (c) => {
    code = c;
  });

  // issue 21: generation from a run folder, a Hugging Face directory, a merged model or a checkpoint (docs/generation.md)
  samplingOptions(
    program
      .command('generate')
      .description('generate text from a language model: --prompt streams to stdout; --prompt-file f.jsonl writes JSON lines')
      .argument('<model>', 'run folder, Hugging Face directory, merged model or checkpoint'),
    GENERATE_DEFAULT_MAX_NEW,
  )
    .option('--prompt <text>', 'the prompt')
    .option('--prompt-file <file>', 'JSONL: {"prompt": "…"} or {"messages": [{"role": "user", "content": "…"}]} per line')
    .option('--batch-size <n>', 'prompts per forward pass with --prompt-file (left-padded)', '8')
    .option('--quiet', 'no log lines on stderr')
    .action(async (model: string, flags: GenerateFlags) => {
      code = await generateCommand(model, flags);
    });
  samplingOptions(
    program
      .command('chat')
      .description('chat with a language model on stdin/stdout (its chat template, or a plain User:/Assistant: format)')
      .argument('<model>', 'run folder, Hugging Face directory, merged model or checkpoint'),
    CHAT_DEFAULT_MAX_NEW,
  )
    .option('--system <text>', 'a system message at the start of the conversation')
    .action(async (model: string, flags: ChatFlags) => {
      code = await chatCommand(model, flags);
    });

  program
    .command('convert')
    .description('convert between a PEFT adapter folder and a GGUF LoRA adapter (--base), or a Hugging Face model directory and a GGUF model')
    .argument('<input>', 'adapter folder, model directory or .gguf file')
    .argument('<output>', '.gguf file or folder')
    .option('--type <type>', 'GGUF tensor type written: f32, f16 or q8_0 (adapters: f32 or f16)', 'f16')
    .option('--base <model>', 'adapters: the base model (Hugging Face model directory or GGUF model file)')
    .action(async (input: string, output: string, flags: { type?: string; base?: string }) => {
      code = await convertCommand(input, output, flags);
    });

  adaptersCommand(program, (c) => {
    code = c;
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.invalid;
    if (error instanceof UsageError || error instanceof ResumeError) {
      console.error(`✖ ${error.message}`);
      return EXIT.invalid;
    }
    if (error instanceof PipelineValidationError) {
      printIssues(error.issues);
      return EXIT.invalid;
    }
    console.error(`✖ ${(error as Error).message}`);
    if (process.env.RANKWISE_DEBUG) console.error((error as Error).stack);
    return EXIT.failed;
  }
}
