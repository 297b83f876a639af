export declare const LAYERS: readonly ['models', 'lora', 'formats', 'core'];
export declare const MOVES: ReadonlyArray<{ from: string; pkg: string; to: string }>;
export declare function packageOf(relPath: string): 'models' | 'lora' | 'formats' | 'core';
