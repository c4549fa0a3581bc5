import protobuf from 'protobufjs';

/**
 * The subset of TensorFlow's `event.proto` / `summary.proto` / `tensor.proto` that event files
 * written here use, field numbers as upstream (tensorboard/compat/proto). Parsed once at load.
 */
const SCHEMA = `
syntax = "proto3";
package tensorboard;

message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
  }
}

message Summary {
  message Image {
    int32 height = 1;
    int32 width = 2;
    int32 colorspace = 3;
    bytes encoded_image_string = 4;
  }
  message Value {
    string node_name = 7;
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
      Image image = 4;
      HistogramProto histo = 5;
      TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}

message SummaryMetadata {
  message PluginData {
    string plugin_name = 1;
    bytes content = 2;
  }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
  int32 data_class = 4;
}

message HistogramProto {
  double min = 1;
  double max = 2;
  double num = 3;
  double sum = 4;
  double sum_squares = 5;
  repeated double bucket_limit = 6 [packed = true];
  repeated double bucket = 7 [packed = true];
}

message TensorShapeProto {
  message Dim {
    int64 size = 1;
    string name = 2;
  }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}

message TensorProto {
  int32 dtype = 1;
  TensorShapeProto tensor_shape = 2;
  int32 version_number = 3;
  bytes tensor_content = 4;
  repeated float float_val = 5 [packed = true];
  repeated double double_val = 6 [packed = true];
  repeated int32 int_val = 7 [packed = true];
  repeated bytes string_val = 8;
}
`;

const root = protobuf.parse(SCHEMA, { keepCase: false }).root;

/** `tensorboard.Event`. */
export const EventType: protobuf.Type = root.lookupType('tensorboard.Event');

/** TensorFlow's `DT_STRING` data type. */
export const DT_STRING = 7;

/** A histogram as stored in `HistogramProto`: `bucket[i]` counts values ≤ `bucketLimit[i]`. */
export interface HistogramData {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  bucketLimit: number[];
  bucket: number[];
}

/** One `Summary.Value`, in the shape this module writes and reads (camelCase fields). */
export interface SummaryValueMessage {
  tag: string;
  simpleValue?: number;
  /** An encoded image (PNG): `colorspace` 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  image?: { height: number; width: number; colorspace: number; encodedImageString: Uint8Array };
  histo?: HistogramData;
  tensor?: {
    dtype: number;
    tensorShape?: { dim: Array<{ size: number }> };
    stringVal?: Uint8Array[];
    floatVal?: number[];
    doubleVal?: number[];
    intVal?: number[];
  };
  metadata?: { pluginData?: { pluginName: string; content?: Uint8Array } };
}

/** One `Event`, in the shape this module writes and reads. */
export interface EventMessage {
  wallTime: number;
  step: number;
  fileVersion?: string;
  summary?: { value: SummaryValueMessage[] };
}

/** Serialises an event. */
export function encodeEvent(event: EventMessage): Uint8Array {
  return EventType.encode(EventType.fromObject(event)).finish();
}

/** Parses an event (int64 fields become numbers, bytes stay `Uint8Array`s). */
export function decodeEvent(bytes: Uint8Array): EventMessage {
  const message = EventType.decode(bytes);
  return EventType.toObject(message, {
    longs: Number,
    defaults: true,
    arrays: true,
    oneofs: false,
  }) as EventMessage;
}
