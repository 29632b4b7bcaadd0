// `l41sim sweep <config.json>`: run a workload over a grid of parameters (see
// src/workloads/sweep/config.ts for the config), in parallel, resumably; write the
// results as CSV and JSON and the headline figure as an SVG and PNG plot, and print
// a small ASCII chart.

import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ALLOW_STALE_HOST, addExactOption, parsePath, parseWorkers } from './common.js';
import { describeOsError, ensureWritableDir, writeFileAtomic } from './output.js';
import { UsageError } from '../errors.js';
import { validateSweepConfig, type SweepConfig } from '../workloads/sweep/config.js';
import { configHelp } from '../workloads/sweep/config-schema.js';
import { asciiChart, renderPlot, seriesOf } from '../workloads/sweep/plot.js';
import { defaultWorkers, runSweep } from '../workloads/sweep/runner.js';
import { workloadDef } from '../workloads/sweep/workloads.js';
import { packageVersion } from '../costmodel/repo.js';
import { progressBar, stderrTerminal } from './terminal.js';

interface SweepOptionValues {
  workers: number;
  outDir?: string;
  fresh?: boolean;
  exact?: boolean;
  plot: boolean;
  json?: boolean;
  allowStaleHost?: boolean;
}

/** Read and validate a config file. */
export function readSweepConfig(file: string): SweepConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(file, `cannot read the config (${describeOsError(err)})`, 'a readable JSON file');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UsageError(file, `not valid JSON (${(err as Error).message.replace(/\s+/g, ' ')})`, 'a sweep config in JSON');
  }
  return validateSweepConfig(raw, file);
}

/** The progress bar with points done, time taken and an estimate of the time left; end() leaves its last line. */
function pointsBar(): ((done: number, total: number) => void) & { end(): void } {
  const bar = progressBar();
  const t0 = Date.now();
  const f = (done: number, total: number) => {
    const s = (Date.now() - t0) / 1000;
    const eta = done > 0 && done < total ? `, about ${Math.ceil((s / done) * (total - done))} s left` : '';
    bar.draw(total === 0 ? 1 : done / total, `${done}/${total} points, ${s.toFixed(1)} s${eta}`);
  };
  return Object.assign(f, { end: () => bar.done(true) });
}

export function register(program: Command): void {
  const cmd = program
    .command('sweep')
    .description('run a workload over a grid of parameters from a JSON config, in parallel and resumably; write CSV, JSON and a plot')
    .argument('<config>', 'the sweep config (JSON; see examples/*.json)')
    .addOption(new Option('--workers <n>', 'worker threads (results are the same for any count)').argParser(parseWorkers).default(defaultWorkers(), 'one per core'))
    .addOption(new Option('--out-dir <dir>', "where to write the results (default: the config's outputs.dir)").argParser(parsePath('--out-dir')))
    .option('--fresh', 'ignore the results of an earlier run of this config and run every point again')
    .option('--no-plot', 'do not draw the SVG/PNG plot')
    .option('--json', 'print the results document (JSON) instead of the summary and chart')
    .option('--allow-stale-host', ALLOW_STALE_HOST.replace('--profile host', 'a config profile "host"'));
  addExactOption(cmd)
    .addHelpText('after', () => `\n${configHelp()}\n\nAn interrupted sweep (Ctrl-C, a crash) resumes where it stopped when run again.\nExample: l41sim sweep examples/io-static-bbb.json`)
    .action(async (file: string, opts: SweepOptionValues) => {
      const config = readSweepConfig(file);
      const outDir = ensureWritableDir(opts.outDir ?? config.outputs.dir, opts.outDir !== undefined ? '--out-dir' : 'outputs.dir');
      const controller = new AbortController();
      let interrupts = 0;
      const onSigint = () => {
        interrupts++;
        if (interrupts > 1) {
          process.stderr.write('l41sim: interrupted again: stopped without waiting for the points in flight (finished points are kept)\n');
          process.exit(130);
        }
        // On a terminal, say why the sweep has not stopped yet; the one line that says
        // where it got to follows when the points in flight are done.
        if (stderrTerminal().isTTY) process.stderr.write('\r\u001b[Kl41sim: stopping: the points in flight finish and are kept (Ctrl-C again to quit now)\n');
        controller.abort();
      };
      process.on('SIGINT', onSigint);
      const bar = pointsBar();
      const t0 = Date.now();
      const written: string[] = [];
      try {
        const outcome = await runSweep(config, outDir, {
          workers: opts.workers,
          version: packageVersion(),
          fresh: opts.fresh,
          exact: opts.exact,
          onProgress: bar,
          signal: controller.signal,
          host: { allowStaleHost: opts.allowStaleHost ?? false, onWarning: (w) => process.stderr.write(`l41sim: warning: ${w}\n`) },
          writeFiles: (doc, csv, paths) => {
            if (config.outputs.csv) writeFileAtomic(paths.csv, csv, 'outputs.dir'), written.push(paths.csv);
            if (config.outputs.json) writeFileAtomic(paths.json, `${JSON.stringify(doc, null, 1)}\n`, 'outputs.dir'), written.push(paths.json);
          },
        });
        bar.end();
        const def = workloadDef(config.workload);
        const plot = config.outputs.plot;
        let chart = '';
        if (plot) {
          const series = seriesOf(outcome.rows, plot);
          const yLabel = plot.y === def.headline.name ? def.headline.label : plot.y;
          chart = asciiChart(series, plot, yLabel);
          if (opts.plot && (plot.svg || plot.png)) {
            const profiles = [...new Set(outcome.points.map((p) => p.profile))].join(', ');
            const { svg, png } = await renderPlot(series, plot, { title: config.name, subtitle: `${config.workload} on ${profiles}${config.description ? ` - ${config.description}` : ''}`, yLabel });
            if (plot.svg) writeFileAtomic(outcome.paths.svg, svg, 'outputs.dir'), written.push(outcome.paths.svg);
            if (plot.png) writeFileAtomic(outcome.paths.png, png, 'outputs.dir'), written.push(outcome.paths.png);
          }
        }
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(outcome.document, null, 1)}\n`);
          return;
        }
        const secs = ((Date.now() - t0) / 1000).toFixed(1);
        const lines = [
          `# sweep ${config.name}: ${config.workload}, ${outcome.points.length} points (${outcome.ran} run, ${outcome.resumed} from an earlier run) in ${secs} s`,
          ...written.map((p) => `#   wrote ${p}`),
        ];
        process.stdout.write(`${lines.join('\n')}\n${chart === '' ? '' : `\n${chart}`}`);
      } finally {
        process.off('SIGINT', onSigint);
        bar.end();
      }
    });
}
