import protobuf from 'protobufjs/minimal.js';

/**
 * The few TensorFlow protocol buffers an event file needs, encoded with protobufjs's Writer; field numbers from
 * tensorflow/core/util/event.proto, framework/summary.proto, framework/tensor.proto and tensor_shape.proto:
 *
 *   Event          { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
 *   Summary        { repeated Value value = 1; }
 *   Summary.Value  { string tag = 1; float simple_value = 2; TensorProto tensor = 8; SummaryMetadata metadata = 9; }
 *   SummaryMetadata{ PluginData plugin_data = 1; DataClass data_class = 4; }   PluginData { string plugin_name = 1; bytes content = 2; }
 *   TensorProto    { DataType dtype = 1; TensorShapeProto tensor_shape = 2; repeated bytes string_val = 8; }   (DT_STRING = 7)
 */
const { Writer } = protobuf;

/** summary_pb2.DataClass.DATA_CLASS_TENSOR */
const DATA_CLASS_TENSOR = 2;
const DT_STRING = 7;

export type SummaryValue = { tag: string; scalar: number } | { tag: string; text: string };

function valueBytes(value: SummaryValue): Uint8Array {
  const w = Writer.create();
  w.uint32((1 << 3) | 2).string(value.tag);
  if ('scalar' in value) {
    w.uint32((2 << 3) | 5).float(value.scalar);
  } else {
    // tensor: a scalar DT_STRING (an empty TensorShapeProto), the text plugin's metadata
    const tensor = Writer.create();
    tensor.uint32((1 << 3) | 0).int32(DT_STRING);
    tensor.uint32((2 << 3) | 2).bytes(new Uint8Array(0));
    tensor.uint32((8 << 3) | 2).bytes(new TextEncoder().encode(value.text));
    w.uint32((8 << 3) | 2).bytes(tensor.finish());
    const plugin = Writer.create();
    plugin.uint32((1 << 3) | 2).string('text');
    const metadata = Writer.create();
    metadata.uint32((1 << 3) | 2).bytes(plugin.finish());
    metadata.uint32((4 << 3) | 0).int32(DATA_CLASS_TENSOR);
    w.uint32((9 << 3) | 2).bytes(metadata.finish());
  }
  return w.finish();
}

/** An `Event` with either the file version (the first record of every file) or a summary of values. */
export function eventBytes(event: { wallTime: number; step: number; fileVersion?: string; values?: readonly SummaryValue[] }): Uint8Array {
  const w = Writer.create();
  w.uint32((1 << 3) | 1).double(event.wallTime);
  w.uint32((2 << 3) | 0).int64(event.step);
  if (event.fileVersion !== undefined) w.uint32((3 << 3) | 2).string(event.fileVersion);
  if (event.values) {
    const summary = Writer.create();
    for (const value of event.values) summary.uint32((1 << 3) | 2).bytes(valueBytes(value));
    w.uint32((5 << 3) | 2).bytes(summary.finish());
  }
  return w.finish();
}
