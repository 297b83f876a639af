/** float32 unary and broadcasting binary kernels (Add, Sub, Multiply, RealDiv, Pow, Exp, Tanh, Relu, Step, ...). */
import * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';

import type { BinaryOpName, UnaryOpName } from '../addon.js';
import { planBroadcast } from './broadcast.js';
import { floatOutput, floatValues, type NativeKernel } from './context.js';

interface UnaryDef {
  kernelName: string;
  op: UnaryOpName;
  /** Attribute read into the kernel's alpha (LeakyRelu, Step). */
  alphaAttr?: string;
}

const unaryDefs: UnaryDef[] = [
  { kernelName: tf.Neg, op: 'NEG' },
  { kernelName: tf.Abs, op: 'ABS' },
  { kernelName: tf.Square, op: 'SQUARE' },
  { kernelName: tf.Sqrt, op: 'SQRT' },
  { kernelName: tf.Rsqrt, op: 'RSQRT' },
  { kernelName: tf.Reciprocal, op: 'RECIPROCAL' },
  { kernelName: tf.Exp, op: 'EXP' },
  { kernelName: tf.Log, op: 'LOG' },
  { kernelName: tf.Tanh, op: 'TANH' },
  { kernelName: tf.Sigmoid, op: 'SIGMOID' },
  { kernelName: tf.Relu, op: 'RELU' },
  { kernelName: tf.Relu6, op: 'RELU6' },
  { kernelName: tf.LeakyRelu, op: 'LEAKY_RELU', alphaAttr: 'alpha' },
  { kernelName: tf.Step, op: 'STEP', alphaAttr: 'alpha' },
  { kernelName: tf.Elu, op: 'ELU' },
  { kernelName: tf.Erf, op: 'ERF' },
  { kernelName: tf.Softplus, op: 'SOFTPLUS' },
];

function unaryKernel(def: UnaryDef): NativeKernel {
  return {
    kernelName: def.kernelName,
    run({ inputs, attrs }, backend) {
      const { addon } = backend;
      const x = inputs.x;
      if (!x) return undefined;
      const size = util.sizeFromShape(x.shape);
      const xv = floatValues(backend, x);
      if (!xv || size === 0) return undefined;
      const alphaValue = def.alphaAttr ? attrs?.[def.alphaAttr] : 0;
      const alpha = typeof alphaValue === 'number' ? alphaValue : 0;
      const out = backend.allocFloat32(size);
      addon.unary(addon.ops.unary[def.op], xv, out, alpha);
      return floatOutput(backend, x.shape.slice(), out);
    },
  };
}

interface BinaryDef {
  kernelName: string;
  op: BinaryOpName;
  a: string;
  b: string;
}

const binaryDefs: BinaryDef[] = [
  { kernelName: tf.Add, op: 'ADD', a: 'a', b: 'b' },
  { kernelName: tf.Sub, op: 'SUB', a: 'a', b: 'b' },
  { kernelName: tf.Multiply, op: 'MUL', a: 'a', b: 'b' },
  { kernelName: tf.RealDiv, op: 'DIV', a: 'a', b: 'b' },
  { kernelName: tf.Pow, op: 'POW', a: 'a', b: 'b' },
  { kernelName: tf.Maximum, op: 'MAXIMUM', a: 'a', b: 'b' },
  { kernelName: tf.Minimum, op: 'MINIMUM', a: 'a', b: 'b' },
  { kernelName: tf.SquaredDifference, op: 'SQUARED_DIFFERENCE', a: 'a', b: 'b' },
  { kernelName: tf.Prelu, op: 'PRELU', a: 'x', b: 'alpha' },
];

function binaryKernel(def: BinaryDef): NativeKernel {
  return {
    kernelName: def.kernelName,
    run({ inputs }, backend) {
      const { addon } = backend;
      const a = inputs[def.a];
      const b = inputs[def.b];
      if (!a || !b) return undefined;
      const av = floatValues(backend, a);
      const bv = floatValues(backend, b);
      if (!av || !bv) return undefined;
      // x ** scalar (GELU's x^3, gradients' x^2): one unary pass.
      if (def.op === 'POW' && bv.length === 1 && b.shape.length <= a.shape.length && av.length > 0) {
        const out = backend.allocFloat32(av.length);
        addon.unary(addon.ops.unary.POW_SCALAR, av, out, bv[0]);
        return floatOutput(backend, a.shape.slice(), out);
      }
      const plan = planBroadcast(a.shape, b.shape);
      if (!plan || plan.size === 0) return undefined;
      const out = backend.allocFloat32(plan.size);
      addon.binary(addon.ops.binary[def.op], av, bv, out, plan.spec);
      return floatOutput(backend, plan.outShape, out);
    },
  };
}

export const elementwiseKernels: NativeKernel[] = [...unaryDefs.map(unaryKernel), ...binaryDefs.map(binaryKernel)];
