export { main } from './cli.js';
export { EXIT, type ExitCode } from './exit-codes.js';
export { formatSummary } from './report.js';
export { generateCommand, type CommandOutput, type GenerateFlags } from './commands/generate.js';
export { chatCommand, type ChatFlags } from './commands/chat.js';
