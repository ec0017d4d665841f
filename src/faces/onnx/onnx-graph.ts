/**
 * Just enough of ONNX's protobuf encoding (onnx.proto, IR version 8, opset 13) to write a network as a
 * `ModelProto`: the graphs are built in memory from face-api's weights, so no model file is ever downloaded.
 */

const OPSET = 13;
const IR_VERSION = 8;
const FLOAT = 1;
const UINT8 = 2;
const INT64 = 7;
const ELEMENT_TYPES = { float: FLOAT, uint8: UINT8, int64: INT64 } as const;

// AttributeProto.AttributeType
const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_STRING = 3;
const ATTRIBUTE_INTS = 7;

/** Writes protobuf fields: varints, and length-delimited messages, strings and bytes. */
class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): this {
    this.chunks.push(bytes);
    this.length += bytes.length;
    return this;
  }

  private varint(value: number | bigint): this {
    let rest = BigInt.asUintN(64, BigInt(value));
    const bytes: number[] = [];
    do {
      const low = Number(rest & 0x7fn);
      rest >>= 7n;
      bytes.push(rest > 0n ? low | 0x80 : low);
    } while (rest > 0n);
    return this.push(Uint8Array.from(bytes));
  }

  private key(field: number, wireType: 0 | 2 | 5): this {
    return this.varint((field << 3) | wireType);
  }

  int(field: number, value: number): this {
    return this.key(field, 0).varint(value);
  }

  float(field: number, value: number): this {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    return this.key(field, 5).push(bytes);
  }

  bytes(field: number, value: Uint8Array): this {
    return this.key(field, 2).varint(value.length).push(value);
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  // The inner message's chunks are taken over, not copied: the weights are copied once, by `finish`.
  message(field: number, write: (writer: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    write(inner);
    this.key(field, 2).varint(inner.length);
    for (const chunk of inner.chunks) this.push(chunk);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

export type Attribute = number | number[] | string | { float: number };

interface Node {
  op: string;
  inputs: string[];
  output: string;
  attributes: Record<string, Attribute>;
}

interface Initializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

/** A dimension: a fixed size, or a name for one given at run time (the batch, an image's height). */
type Dim = number | string;
type ElementType = keyof typeof ELEMENT_TYPES;

/** Builds one graph of named values: inputs, constant weights, operator nodes and outputs. */
export class OnnxGraph {
  private readonly nodes: Node[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly inputs: { name: string; dims: Dim[]; type: ElementType }[] = [];
  private readonly outputs: { name: string; dims: Dim[] }[] = [];
  private counter = 0;

  input(name: string, dims: Dim[], type: ElementType = 'float'): string {
    this.inputs.push({ name, dims, type });
    return name;
  }

  output(name: string, dims: Dim[]): void {
    this.outputs.push({ name, dims });
  }

  /** A float32 weight; returns its name. */
  weight(data: Float32Array, dims: number[]): string {
    const name = `w${this.counter++}`;
    this.initializers.push({ name, dims, data });
    return name;
  }

  /** An int64 constant (shapes, pads); returns its name. */
  ints(values: number[]): string {
    const name = `i${this.counter++}`;
    this.initializers.push({ name, dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  }

  /** Adds one operator; returns the name of its output (`output` when given, so it can be a graph output). */
  node(op: string, inputs: string[], attributes: Record<string, Attribute> = {}, output = `t${this.counter++}`): string {
    this.nodes.push({ op, inputs, output, attributes });
    return output;
  }

  /** The serialized `ModelProto`, ready for `InferenceSession.create`. */
  toModel(): Uint8Array {
    const model = new ProtoWriter();
    model.int(1, IR_VERSION);
    model.string(2, 'face-attendance');
    model.message(8, (opset) => opset.string(1, '').int(2, OPSET));
    model.message(7, (graph) => {
      for (const node of this.nodes) graph.message(1, (w) => writeNode(w, node));
      graph.string(2, 'main');
      for (const initializer of this.initializers) graph.message(5, (w) => writeTensor(w, initializer));
      for (const input of this.inputs) graph.message(11, (w) => writeValueInfo(w, input.name, input.dims, input.type));
      for (const output of this.outputs) graph.message(12, (w) => writeValueInfo(w, output.name, output.dims, 'float'));
    });
    return model.finish();
  }
}

function writeNode(w: ProtoWriter, node: Node): void {
  for (const input of node.inputs) w.string(1, input);
  w.string(2, node.output);
  w.string(4, node.op);
  for (const [name, value] of Object.entries(node.attributes)) {
    w.message(5, (a) => {
      a.string(1, name);
      if (Array.isArray(value)) {
        for (const item of value) a.int(8, item);
        a.int(20, ATTRIBUTE_INTS);
      } else if (typeof value === 'string') {
        a.string(4, value).int(20, ATTRIBUTE_STRING);
      } else if (typeof value === 'number') {
        a.int(3, value).int(20, ATTRIBUTE_INT);
      } else {
        a.float(2, value.float).int(20, ATTRIBUTE_FLOAT);
      }
    });
  }
}

function writeTensor(w: ProtoWriter, { name, dims, data }: Initializer): void {
  for (const dim of dims) w.int(1, dim);
  w.int(2, data instanceof Float32Array ? FLOAT : INT64);
  w.string(8, name);
  // raw_data is little-endian, as typed arrays are on every platform Node runs on.
  w.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

function writeValueInfo(w: ProtoWriter, name: string, dims: Dim[], elementType: ElementType): void {
  w.string(1, name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, ELEMENT_TYPES[elementType]);
      tensor.message(2, (shape) => {
        for (const dim of dims) shape.message(1, (d) => (typeof dim === 'number' ? d.int(1, dim) : d.string(2, dim)));
      });
    }),
  );
}
