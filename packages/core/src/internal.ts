/**
 * `@rankwise/core/internal`: what rankwise's own packages (cli, grid) and tests use that is not public API.
 * No compatibility promise.
 */
export { PluginRegistry, pluginReferenceProblem } from './plugins/registry.js';
export { resolvePluginModule } from './plugins/resolve-package.js';
export { selectPlacement } from './pipeline/placement-check.js';
export { shared } from './contracts/schema-helpers.js';
// language-model data formats (issue 20)
export { ChatTemplate, type ConversationMessage } from './datasets/chat-render.js';
export {
  chatExample,
  chatReference,
  completionExample,
  packExamples,
  textExample,
  truncateExample,
  type LmExample,
} from './datasets/lm-examples.js';
export { exactMatch, normalizedAnswer } from './tasks/exact-match.js';
