// A small builder for ONNX graphs over onnx-proto (the protobufjs-generated ONNX schema): named
// inputs and outputs with symbolic dimensions, float32 weights and int64 constants as initializers,
// and nodes with typed attributes. Encoding is protobufjs's; nothing here writes protobuf by hand.
import { createRequire } from 'node:module';
import type { onnx as OnnxNamespace } from 'onnx-proto';
import { DependencyError } from '../errors.js';

type Onnx = typeof OnnxNamespace;

const require = createRequire(import.meta.url);
let loaded: Onnx | undefined;

/** The generated ONNX classes (onnx-proto is CommonJS), with a fix when the package is missing. */
function onnxProto(): Onnx {
  if (loaded) return loaded;
  try {
    loaded = (require('onnx-proto') as { onnx: Onnx }).onnx;
  } catch (err) {
    throw new DependencyError(`onnx-proto does not load (${(err as Error).message.split('\n')[0]}). Fix: \`npm install\` (it is a dependency in package.json)`);
  }
  return loaded;
}

/** Element types the graphs here use. */
export const ELEM_TYPES = Object.freeze({ float32: 1, int64: 7, bool: 9 } as const);
export type ElemType = keyof typeof ELEM_TYPES;

/** A dimension: a size, or the name of a symbolic size (`batch`, `sequence`). */
export type Dim = number | string;

/** A node attribute, typed: ONNX tells 2 (int) from 2.0 (float), JavaScript numbers do not. */
export type Attr =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string };

export const attr = Object.freeze({
  int: (value: number): Attr => ({ kind: 'int', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  ints: (value: readonly number[]): Attr => ({ kind: 'ints', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
});

/** What goes into the model file besides the graph. */
export interface ModelInfo {
  readonly opset: number;
  readonly producerName: string;
  readonly producerVersion: string;
  readonly docString: string;
  /** Shown by tools such as Netron; plain key/value strings. */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * ONNX IR version 8 (ONNX 1.10, the schema onnx-proto carries): what opset 17 needs at least, and
 * the newest version whose fields onnx-proto can write.
 */
export const IR_VERSION = 8;

/** Float32 values as little-endian bytes, as TensorProto.raw_data requires on every host. */
function float32Bytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return out;
}

function int64Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return out;
}

export class OnnxGraph {
  private readonly nodes: OnnxNamespace.INodeProto[] = [];
  private readonly initializers: OnnxNamespace.ITensorProto[] = [];
  private readonly inputs: OnnxNamespace.IValueInfoProto[] = [];
  private readonly outputs: OnnxNamespace.IValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, string>();
  private counter = 0;
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph ${this.name}: the name ${name} is used twice`);
    this.names.add(name);
    return name;
  }

  private fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${++this.counter}`; while (this.names.has(name));
    return this.claim(name);
  }

  private valueInfo(name: string, type: ElemType, dims: readonly Dim[]): OnnxNamespace.IValueInfoProto {
    return {
      name,
      type: { tensorType: { elemType: ELEM_TYPES[type], shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
    };
  }

  /** A graph input; returns its name. */
  input(name: string, type: ElemType, dims: readonly Dim[]): string {
    this.inputs.push(this.valueInfo(this.claim(name), type, dims));
    return name;
  }

  /** Declares the value `name` (made by a node) a graph output. */
  output(name: string, type: ElemType, dims: readonly Dim[]): void {
    if (!this.names.has(name)) throw new Error(`ONNX graph ${this.name}: output ${name} is made by no node`);
    this.outputs.push(this.valueInfo(name, type, dims));
  }

  /** A float32 initializer (a weight), stored as raw little-endian bytes; returns its name. */
  weight(name: string, values: Float32Array, dims: readonly number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (values.length !== size) throw new Error(`ONNX graph ${this.name}: weight ${name} has ${values.length} values for dims [${dims.join(', ')}]`);
    this.initializers.push({ name: this.claim(name), dataType: ELEM_TYPES.float32, dims: [...dims], rawData: float32Bytes(values) });
    return name;
  }

  /** An int64 constant (shapes, axes, indices), shared between nodes that use the same values. */
  int64(values: readonly number[], scalar = false): string {
    const key = `i64:${scalar ? 's' : 'v'}:${values.join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    if (scalar && values.length !== 1) throw new Error('a scalar constant holds one value');
    const name = this.fresh('const_i64');
    this.initializers.push({ name, dataType: ELEM_TYPES.int64, dims: scalar ? [] : [values.length], rawData: int64Bytes(values) });
    this.constants.set(key, name);
    return name;
  }

  /** A float32 scalar constant. */
  float(value: number): string {
    const key = `f32:${value}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.fresh('const_f32');
    this.initializers.push({ name, dataType: ELEM_TYPES.float32, dims: [], rawData: float32Bytes(Float32Array.of(value)) });
    this.constants.set(key, name);
    return name;
  }

  /**
   * A node of the default ONNX domain. `outputs` names its outputs (graph outputs need their
   * public names) or says how many fresh ones it makes. Returns the output names.
   */
  op(opType: string, inputs: readonly string[], attrs: Readonly<Record<string, Attr>> = {}, outputs: number | readonly string[] = 1): string[] {
    for (const i of inputs) {
      if (i !== '' && !this.names.has(i)) throw new Error(`ONNX graph ${this.name}: ${opType} reads ${i}, which nothing made`);
    }
    const AttributeType = onnxProto().AttributeProto.AttributeType;
    const outs = typeof outputs === 'number'
      ? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase()))
      : outputs.map((o) => this.claim(o));
    const attribute = Object.entries(attrs).map(([name, a]): OnnxNamespace.IAttributeProto => {
      switch (a.kind) {
        case 'int': return { name, type: AttributeType.INT, i: a.value };
        case 'float': return { name, type: AttributeType.FLOAT, f: a.value };
        case 'ints': return { name, type: AttributeType.INTS, ints: [...a.value] };
        case 'string': return { name, type: AttributeType.STRING, s: Buffer.from(a.value, 'utf8') };
      }
    });
    this.nodes.push({ name: `${opType}_${this.nodes.length}`, opType, domain: '', input: [...inputs], output: outs, attribute });
    return outs;
  }

  /** `op` for the common case of a node with one output. */
  op1(opType: string, inputs: readonly string[], attrs: Readonly<Record<string, Attr>> = {}, output?: string): string {
    return this.op(opType, inputs, attrs, output === undefined ? 1 : [output])[0]!;
  }

  /** The model file's bytes. */
  encode(info: ModelInfo): Uint8Array {
    const onnx = onnxProto();
    const model: OnnxNamespace.IModelProto = {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: info.opset }],
      producerName: info.producerName,
      producerVersion: info.producerVersion,
      docString: info.docString,
      metadataProps: Object.entries(info.metadata).map(([key, value]) => ({ key, value })),
      graph: { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    };
    const problem = onnx.ModelProto.verify(model);
    if (problem) throw new Error(`ONNX model ${this.name} does not fit the schema: ${problem}`);
    return onnx.ModelProto.encode(model).finish();
  }
}
