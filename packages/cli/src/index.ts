export { main } from './cli.js';
export { EXIT, type ExitCode } from './exit-codes.js';
export { formatSummary } from './report.js';
