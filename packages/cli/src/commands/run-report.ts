import { writeFile } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { compareRuns, comparisonTable, loadRun, runReportHtml, writeRunReport, type RunData } from '@rankwise/observe';
import { EXIT, type ExitCode } from '../exit-codes.js';

const shown = (path: string) => relative(process.cwd(), path) || path;

/** Loads run folders; a folder that is not a run is reported (exit 2) before anything is written. */
async function loadRuns(dirs: string[]): Promise<RunData[] | null> {
  const runs: RunData[] = [];
  for (const dir of dirs) {
    try {
      runs.push(await loadRun(resolve(dir)));
    } catch (error) {
      console.error(`✖ ${(error as Error).message}`);
      return null;
    }
  }
  return runs;
}

/** `rankwise report <run…>`: rebuilds one run's report.html; with several runs, one page with their curves overlaid. */
export async function reportCommand(dirs: string[], output: string | undefined): Promise<ExitCode> {
  const runs = await loadRuns(dirs);
  if (!runs) return EXIT.invalid;
  if (runs.length === 1 && output === undefined) {
    console.log(`wrote ${shown(await writeRunReport(runs[0].dir))}`);
    return EXIT.ok;
  }
  const file = resolve(output ?? 'runs-report.html');
  await writeFile(file, runReportHtml(runs));
  console.log(`wrote ${shown(file)} (${runs.length} run${runs.length === 1 ? '' : 's'})`);
  return EXIT.ok;
}

/** `rankwise runs --compare <run…>`: the settings that differ between runs and their metrics, as a table. */
export async function compareCommand(dirs: string[]): Promise<ExitCode> {
  if (dirs.length < 2) {
    console.error(`✖ --compare: give two or more run folders (found ${dirs.length})`);
    return EXIT.invalid;
  }
  const runs = await loadRuns(dirs);
  if (!runs) return EXIT.invalid;
  console.log(comparisonTable(await compareRuns(runs)));
  return EXIT.ok;
}
