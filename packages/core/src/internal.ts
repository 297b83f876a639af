/**
 * `@rankwise/core/internal`: what rankwise's own packages (cli, grid) and tests use that is not public API.
 * No compatibility promise.
 */
export { PipelineRunner, findArtifact, type ArtifactOptions } from './pipeline/runner.js';
export { PluginRegistry, pluginPackageName, pluginReferenceProblem, BUILT_IN_ALIASES, type PluginRegistryOptions } from './plugins/registry.js';
export { resolvePluginModule, importPluginModule, listPluginPackages, PluginNotFoundError, type PluginPackage, type ResolvedPluginModule } from './plugins/resolve-package.js';
export { selectPlacement } from './pipeline/placement-check.js';
export { ajvIssues } from './pipeline/issues.js';
export { validateAgainst, validateStageObject } from './pipeline/schema.js';
export { stageObjectSchema } from './pipeline/schema-build.js';
export { shared, StringEnum } from './contracts/schema-helpers.js';
export { resolveStage } from './pipeline/stage-resolve.js';
export { RUN_SERVICES, stageSeed, type RunInfo } from './pipeline/services.js';
// language-model data formats (issue 20)
export { ChatTemplate, ChatTemplateError, chatTemplateSource, specialTokenText, type ConversationMessage, type RenderedConversation } from './datasets/chat-render.js';
export { maskSpans, tokenBoundary, type Encoder } from './datasets/token-spans.js';
export { chatExample, chatReference, completionExample, lossTokens, packExamples, textExample, truncateExample, type LmExample, type PackingStrategy, type TruncationMode } from './datasets/lm-examples.js';
export { exactMatch, normalizedAnswer } from './tasks/exact-match.js';
