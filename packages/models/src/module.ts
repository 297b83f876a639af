import * as tf from '@tensorflow/tfjs';

let variableCounter = 0;

/** tfjs variable names are global: every parameter gets a process-unique prefix. */
function uniqueVariableName(local: string): string {
  variableCounter += 1;
  return `rw${variableCounter}/${local}`;
}

/**
 * A node in a model tree: named child modules and named parameters (tf.Variables), PyTorch style.
 * Children are looked up by name at call time, so `setSubmodule` (used by LoRA injection and merging)
 * changes what `forward` runs.
 */
export abstract class Module {
  training = true;
  private readonly childMap = new Map<string, Module>();
  private readonly paramMap = new Map<string, tf.Variable>();

  abstract forward(x: tf.Tensor): tf.Tensor;

  protected addModule<M extends Module>(name: string, module: M): M {
    if (name.includes('.') || name === '') throw new Error(`module name "${name}" must be non-empty and contain no "."`);
    if (this.childMap.has(name) || this.paramMap.has(name)) throw new Error(`duplicate child name "${name}"`);
    this.childMap.set(name, module);
    return module;
  }

  /** Registers `value` as a parameter; takes ownership of `value` (it is disposed). */
  protected addParameter(name: string, value: tf.Tensor, trainable = true): tf.Variable {
    if (this.childMap.has(name) || this.paramMap.has(name)) throw new Error(`duplicate parameter name "${name}"`);
    const variable = tf.variable(value, trainable, uniqueVariableName(name));
    value.dispose();
    this.paramMap.set(name, variable);
    return variable;
  }

  /** Registers an existing variable as a parameter without copying it (it stays shared with its owner). */
  protected adoptParameter(name: string, variable: tf.Variable): tf.Variable {
    if (this.childMap.has(name) || this.paramMap.has(name)) throw new Error(`duplicate parameter name "${name}"`);
    this.paramMap.set(name, variable);
    return variable;
  }

  /** Unregisters parameter `name` and returns it (not disposed: the caller owns it now). */
  protected removeParameter(name: string): tf.Variable {
    const variable = this.param(name);
    this.paramMap.delete(name);
    return variable;
  }

  /** A child module by name, looked up at call time. */
  protected child<M extends Module = Module>(name: string): M {
    const module = this.childMap.get(name);
    if (!module) throw new Error(`no child module "${name}"; children: ${[...this.childMap.keys()].join(', ')}`);
    return module as M;
  }

  protected param(name: string): tf.Variable {
    const variable = this.paramMap.get(name);
    if (!variable) throw new Error(`no parameter "${name}"; parameters: ${[...this.paramMap.keys()].join(', ')}`);
    return variable;
  }

  protected optionalParam(name: string): tf.Variable | null {
    return this.paramMap.get(name) ?? null;
  }

  namedChildren(): Array<[string, Module]> {
    return [...this.childMap.entries()];
  }

  /** Every module in the tree, this one first (path ''), depth first in registration order. */
  namedModules(prefix = ''): Array<[string, Module]> {
    const out: Array<[string, Module]> = [[prefix, this]];
    for (const [name, child] of this.childMap) out.push(...child.namedModules(join(prefix, name)));
    return out;
  }

  /** Every parameter in the tree with its dotted path; a shared (tied) variable is listed once. */
  namedParameters(prefix = ''): Array<[string, tf.Variable]> {
    const out: Array<[string, tf.Variable]> = [];
    const seen = new Set<tf.Variable>();
    for (const [path, module] of this.namedModules(prefix)) {
      for (const [name, variable] of module.paramMap) {
        if (seen.has(variable)) continue;
        seen.add(variable);
        out.push([join(path, name), variable]);
      }
    }
    return out;
  }

  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, v]) => v);
  }

  trainableParameters(): tf.Variable[] {
    return this.parameters().filter((v) => v.trainable);
  }

  getSubmodule(path: string): Module {
    if (path === '') return this;
    let module: Module = this;
    for (const name of path.split('.')) {
      const next = module.childMap.get(name);
      if (!next) {
        const known = this.namedModules()
          .map(([p]) => p)
          .filter((p) => p !== '');
        throw new Error(`no module at "${path}"; modules: ${known.join(', ')}`);
      }
      module = next;
    }
    return module;
  }

  /** Replaces the module at `path` (which must exist) and returns the old one (not disposed). */
  setSubmodule(path: string, replacement: Module): Module {
    const cut = path.lastIndexOf('.');
    const parent = this.getSubmodule(cut < 0 ? '' : path.slice(0, cut));
    const name = path.slice(cut + 1);
    const old = parent.childMap.get(name);
    if (!old) throw new Error(`no module at "${path}"`);
    parent.childMap.set(name, replacement);
    replacement.training = old.training;
    return old;
  }

  train(on = true): this {
    for (const [, module] of this.namedModules()) module.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Disposes every parameter in the tree. */
  dispose(): void {
    for (const variable of this.parameters()) variable.dispose();
  }
}

export function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

/** Number of scalars in a list of variables. */
export function countParameters(variables: readonly tf.Variable[]): number {
  return variables.reduce((n, v) => n + v.size, 0);
}
