/**
 * Reads the tensors of a PyTorch `torch.save(model.state_dict(), 'x.pth')` zip archive without
 * running any of its pickle code.
 *
 * `data.pkl` in the archive is a pickle program. `torch.load(weights_only=False)` (and plain
 * `pickle.load`) executes it, so a downloaded `.pth` can run anything. This module interprets it
 * instead, on a stack machine that knows only the data opcodes (numbers, strings, tuples, lists,
 * dicts, memo) and exactly four globals: `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
 * `torch._utils._rebuild_parameter` (all three rebuilt here as data, never called) and the
 * `torch.*Storage` classes as persistent-id tags. Any other global, opcode or persistent id is
 * refused before anything is built, naming what was found and how to convert the file safely.
 *
 * @packageDocumentation
 */
import { unzipSync } from 'fflate';
import { CheckpointError } from '../errors.js';
import type { SafetensorsDtype, SafetensorsTensor } from './safetensors.js';

/** The one-line PyTorch command that turns a `.pth` into safetensors (with torch's own safe loader). */
export const PTH_TO_SAFETENSORS_COMMAND =
  "python -c \"import torch; from safetensors.torch import save_file; sd = torch.load('in.pth', weights_only=True); save_file({k: v.contiguous() for k, v in sd.items()}, 'out.safetensors')\"";

const STORAGE_DTYPES: Record<string, { dtype: SafetensorsDtype; size: number }> = {
  FloatStorage: { dtype: 'F32', size: 4 },
  DoubleStorage: { dtype: 'F64', size: 8 },
  HalfStorage: { dtype: 'F16', size: 2 },
  BFloat16Storage: { dtype: 'BF16', size: 2 },
  LongStorage: { dtype: 'I64', size: 8 },
  IntStorage: { dtype: 'I32', size: 4 },
  ShortStorage: { dtype: 'I16', size: 2 },
  CharStorage: { dtype: 'I8', size: 1 },
  ByteStorage: { dtype: 'U8', size: 1 },
  BoolStorage: { dtype: 'BOOL', size: 1 },
};

/** Is this buffer a zip archive (a PyTorch ≥ 1.6 `.pth`)? */
export function isZipArchive(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4
  );
}

/** Is this buffer a bare pickle (PyTorch's legacy, pre-1.6 `.pth` format)? */
export function isLegacyPickle(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x80 && bytes[1]! >= 2 && bytes[1]! <= 5;
}

/**
 * The tensors of a PyTorch state-dict archive, by name, in the file's dtypes (row-major, copied).
 * A checkpoint dict that nests the weights under `state_dict`, `model` or `model_state_dict` is
 * unwrapped; other top-level entries that are not tensors are ignored.
 *
 * @throws {@link CheckpointError} `CHECKPOINT_UNSAFE` for anything a plain state dict does not
 *   use (code, other objects), `CHECKPOINT_INVALID` for a broken archive,
 *   `CHECKPOINT_UNSUPPORTED` for a big-endian file.
 */
export function readPytorchArchive(
  filename: string,
  bytes: Uint8Array,
): { tensors: Map<string, SafetensorsTensor>; metadata: Record<string, string> } {
  const fail = (
    message: string,
    code: 'CHECKPOINT_INVALID' | 'CHECKPOINT_UNSUPPORTED' = 'CHECKPOINT_INVALID',
  ) => new CheckpointError(code, filename, `Cannot load checkpoint '${filename}': ${message}`);
  let files: Record<string, Uint8Array>;
  const compressed: string[] = [];
  try {
    // torch.save stores every entry uncompressed; refusing compressed ones rules out zip bombs.
    files = unzipSync(bytes, {
      filter: (file) => {
        if (file.compression !== 0) compressed.push(file.name);
        return file.compression === 0;
      },
    });
  } catch (error) {
    throw fail(
      `it is a zip archive (a PyTorch .pth/.pt file?) that cannot be read: ${(error as Error).message} (truncated or damaged?).`,
    );
  }
  if (compressed.length > 0) {
    throw fail(
      `it has compressed entries (${compressed.slice(0, 3).join(', ')}), which torch.save never writes.`,
    );
  }
  const pickles = Object.keys(files).filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickles.length !== 1) {
    throw fail(
      `expected one '<name>/data.pkl' (a torch.save archive), found ${pickles.length === 0 ? 'none' : pickles.join(', ')}.`,
    );
  }
  const prefix = pickles[0]!.slice(0, -'data.pkl'.length);
  const byteorder = files[`${prefix}byteorder`];
  if (byteorder !== undefined && new TextDecoder().decode(byteorder).trim() !== 'little') {
    throw fail(
      'it was written on a big-endian machine; convert it there to safetensors.',
      'CHECKPOINT_UNSUPPORTED',
    );
  }
  const storages = (key: string): Uint8Array => {
    const data = files[`${prefix}data/${key}`];
    if (data === undefined) throw fail(`the storage '${prefix}data/${key}' is missing.`);
    return data;
  };
  const root = new RestrictedUnpickler(filename, files[pickles[0]!]!, storages).load();
  const tensors = new Map<string, SafetensorsTensor>();
  const state = pickStateDict(root);
  if (state === undefined) {
    throw fail(
      `its top level is ${describe(root)}, not a state dict (a dict of tensors, or a dict with 'state_dict' or 'model' holding one).`,
    );
  }
  for (const [key, value] of state.entries) {
    if (value instanceof TensorRef && typeof key === 'string')
      tensors.set(key, value.materialise(fail));
  }
  return { tensors, metadata: { format: 'pytorch', source: 'pth' } };
}

function pickStateDict(root: unknown): PickleDict | undefined {
  if (!(root instanceof PickleDict)) return undefined;
  const hasTensors = (dict: PickleDict) =>
    dict.entries.some(([, value]) => value instanceof TensorRef);
  for (const key of ['state_dict', 'model_state_dict', 'model']) {
    const nested = root.get(key);
    if (nested instanceof PickleDict && hasTensors(nested)) return nested;
  }
  return hasTensors(root) || root.entries.length === 0 ? root : undefined;
}

function describe(value: unknown): string {
  if (value instanceof PickleDict)
    return `a dict without tensors (keys: ${value.entries
      .map(([k]) => String(k))
      .slice(0, 8)
      .join(', ')})`;
  if (Array.isArray(value)) return 'a list';
  return typeof value;
}

/** A dict or OrderedDict as read: its entries in order. */
class PickleDict {
  readonly entries: Array<[unknown, unknown]> = [];
  get(key: unknown): unknown {
    return this.entries.find(([k]) => k === key)?.[1];
  }
  set(key: unknown, value: unknown): void {
    const index = this.entries.findIndex(([k]) => k === key);
    if (index >= 0) this.entries[index] = [key, value];
    else this.entries.push([key, value]);
  }
}

/** A tuple as read (distinct from a list, which is a plain array). */
class PickleTuple {
  constructor(readonly items: unknown[]) {}
}

/** An allowed global, by its dotted name. */
class PickleGlobal {
  constructor(readonly name: string) {}
}

/** A storage named by a persistent id: its element type and bytes. */
class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: SafetensorsDtype,
    readonly itemSize: number,
    readonly bytes: Uint8Array,
  ) {}
}

/** `_rebuild_tensor_v2(storage, offset, size, stride, ...)`, not yet copied out. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}

  materialise(fail: (message: string) => Error): SafetensorsTensor {
    const { storage, offset, shape, stride } = this;
    const size = storage.itemSize;
    const count = shape.reduce((a, b) => a * b, 1);
    const available = storage.bytes.byteLength / size;
    let last = offset;
    for (let axis = 0; axis < shape.length; axis += 1) {
      if (shape[axis]! > 0) last += (shape[axis]! - 1) * stride[axis]!;
    }
    if (count > available) {
      throw fail(
        `a tensor [${shape.join(', ')}] has more elements than its storage '${storage.key}' (${available}); overlapping views are not read.`,
      );
    }
    if (count > 0 && (offset < 0 || last >= available || stride.some((s) => s < 0))) {
      throw fail(
        `a tensor [${shape.join(', ')}] at offset ${offset} with stride [${stride.join(', ')}] reaches past its storage '${storage.key}' (${available} elements).`,
      );
    }
    const out = new Uint8Array(count * size);
    let contiguous = true;
    for (let axis = shape.length - 1, expected = 1; axis >= 0; axis -= 1) {
      if (shape[axis]! !== 1 && stride[axis] !== expected) contiguous = false;
      expected *= shape[axis]!;
    }
    if (contiguous) {
      out.set(storage.bytes.subarray(offset * size, (offset + count) * size));
    } else {
      const index = new Array<number>(shape.length).fill(0);
      for (let i = 0; i < count; i += 1) {
        let element = offset;
        for (let axis = 0; axis < shape.length; axis += 1) element += index[axis]! * stride[axis]!;
        out.set(storage.bytes.subarray(element * size, (element + 1) * size), i * size);
        for (let axis = shape.length - 1; axis >= 0; axis -= 1) {
          index[axis]! += 1;
          if (index[axis]! < shape[axis]!) break;
          index[axis] = 0;
        }
      }
    }
    return { dtype: storage.dtype, shape: [...shape], bytes: out };
  }
}

const ALLOWED_CALLABLES = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
]);

/**
 * A pickle interpreter for data only. Opcodes it does not list (INST, OBJ, NEWOBJ, EXT, text
 * PERSID, ...) and globals outside the allow list stop it with `CHECKPOINT_UNSAFE`.
 */
class RestrictedUnpickler {
  #position = 0;
  readonly #stack: unknown[] = [];
  readonly #marks: number[] = [];
  readonly #memo = new Map<number, unknown>();
  readonly #view: DataView;

  constructor(
    readonly filename: string,
    readonly bytes: Uint8Array,
    readonly storage: (key: string) => Uint8Array,
  ) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  #unsafe(what: string): CheckpointError {
    return new CheckpointError(
      'CHECKPOINT_UNSAFE',
      this.filename,
      `Refusing to load PyTorch checkpoint '${this.filename}': its pickle uses ${what} (at byte ${this.#position} of data.pkl), which a plain state dict of tensors never does; loading it with pickle could run code. ` +
        `If you trust the file, convert it with PyTorch's safe loader:\n  ${PTH_TO_SAFETENSORS_COMMAND}`,
    );
  }

  #invalid(what: string): CheckpointError {
    return new CheckpointError(
      'CHECKPOINT_INVALID',
      this.filename,
      `Cannot load PyTorch checkpoint '${this.filename}': data.pkl is broken (${what} at byte ${this.#position}).`,
    );
  }

  #byte(): number {
    if (this.#position >= this.bytes.length) throw this.#invalid('it ends before STOP');
    return this.bytes[this.#position++]!;
  }

  #take(length: number): Uint8Array {
    if (length < 0 || this.#position + length > this.bytes.length)
      throw this.#invalid('a value runs past the end');
    const slice = this.bytes.subarray(this.#position, this.#position + length);
    this.#position += length;
    return slice;
  }

  #uint32(): number {
    const value = this.#view.getUint32(this.#take(4).byteOffset - this.bytes.byteOffset, true);
    return value;
  }

  #line(): string {
    const end = this.bytes.indexOf(0x0a, this.#position);
    if (end < 0) throw this.#invalid('a GLOBAL name without a newline');
    const text = new TextDecoder().decode(this.bytes.subarray(this.#position, end));
    this.#position = end + 1;
    return text;
  }

  #pop(): unknown {
    if (this.#stack.length === 0) throw this.#invalid('an empty stack');
    return this.#stack.pop();
  }

  #popMark(): unknown[] {
    const mark = this.#marks.pop();
    if (mark === undefined) throw this.#invalid('no MARK');
    const items = this.#stack.splice(mark);
    return items;
  }

  #top(): unknown {
    if (this.#stack.length === 0) throw this.#invalid('an empty stack');
    return this.#stack[this.#stack.length - 1];
  }

  #global(module: string, name: string): PickleGlobal {
    const dotted = `${module}.${name}`;
    if (ALLOWED_CALLABLES.has(dotted)) return new PickleGlobal(dotted);
    if (module === 'torch' && name in STORAGE_DTYPES) return new PickleGlobal(dotted);
    throw this.#unsafe(`the global '${dotted}'`);
  }

  load(): unknown {
    for (;;) {
      const opcode = this.#byte();
      switch (opcode) {
        case 0x80: // PROTO
          this.#byte();
          break;
        case 0x95: // FRAME
          this.#take(8);
          break;
        case 0x2e: // STOP
          return this.#pop();
        case 0x28: // MARK
          this.#marks.push(this.#stack.length);
          break;
        case 0x7d: // EMPTY_DICT
          this.#stack.push(new PickleDict());
          break;
        case 0x5d: // EMPTY_LIST
          this.#stack.push([]);
          break;
        case 0x29: // EMPTY_TUPLE
          this.#stack.push(new PickleTuple([]));
          break;
        case 0x74: // TUPLE
          this.#stack.push(new PickleTuple(this.#popMark()));
          break;
        case 0x85: // TUPLE1
        case 0x86: // TUPLE2
        case 0x87: {
          // TUPLE3
          const n = opcode - 0x84;
          if (this.#stack.length < n) throw this.#invalid('a short stack');
          this.#stack.push(new PickleTuple(this.#stack.splice(this.#stack.length - n)));
          break;
        }
        case 0x6c: // LIST
          this.#stack.push(this.#popMark());
          break;
        case 0x64: {
          // DICT
          const items = this.#popMark();
          const dict = new PickleDict();
          for (let i = 0; i + 1 < items.length; i += 2) dict.set(items[i], items[i + 1]);
          this.#stack.push(dict);
          break;
        }
        case 0x61: {
          // APPEND
          const value = this.#pop();
          const list = this.#top();
          if (!Array.isArray(list)) throw this.#invalid('APPEND to a non-list');
          list.push(value);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = this.#popMark();
          const list = this.#top();
          if (!Array.isArray(list)) throw this.#invalid('APPENDS to a non-list');
          list.push(...items);
          break;
        }
        case 0x73: {
          // SETITEM
          const value = this.#pop();
          const key = this.#pop();
          const dict = this.#top();
          if (!(dict instanceof PickleDict)) throw this.#invalid('SETITEM on a non-dict');
          dict.set(key, value);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = this.#popMark();
          const dict = this.#top();
          if (!(dict instanceof PickleDict)) throw this.#invalid('SETITEMS on a non-dict');
          for (let i = 0; i + 1 < items.length; i += 2) dict.set(items[i], items[i + 1]);
          break;
        }
        case 0x71: // BINPUT
          this.#memo.set(this.#byte(), this.#top());
          break;
        case 0x72: // LONG_BINPUT
          this.#memo.set(this.#uint32(), this.#top());
          break;
        case 0x94: // MEMOIZE
          this.#memo.set(this.#memo.size, this.#top());
          break;
        case 0x68: // BINGET
        case 0x6a: {
          // LONG_BINGET
          const index = opcode === 0x68 ? this.#byte() : this.#uint32();
          if (!this.#memo.has(index)) throw this.#invalid(`memo ${index} unset`);
          this.#stack.push(this.#memo.get(index));
          break;
        }
        case 0x4a: {
          // BININT
          const bytes = this.#take(4);
          this.#stack.push(new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true));
          break;
        }
        case 0x4b: // BININT1
          this.#stack.push(this.#byte());
          break;
        case 0x4d: {
          // BININT2
          const low = this.#byte();
          this.#stack.push(low | (this.#byte() << 8));
          break;
        }
        case 0x8a: {
          // LONG1
          const bytes = this.#take(this.#byte());
          let value = 0n;
          for (let i = bytes.length - 1; i >= 0; i -= 1) value = (value << 8n) | BigInt(bytes[i]!);
          if (bytes.length > 0 && bytes[bytes.length - 1]! & 0x80)
            value -= 1n << BigInt(8 * bytes.length);
          this.#stack.push(
            value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
              ? Number(value)
              : value,
          );
          break;
        }
        case 0x47: {
          // BINFLOAT
          const bytes = this.#take(8);
          this.#stack.push(new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, false));
          break;
        }
        case 0x4e: // NONE
          this.#stack.push(null);
          break;
        case 0x88: // NEWTRUE
          this.#stack.push(true);
          break;
        case 0x89: // NEWFALSE
          this.#stack.push(false);
          break;
        case 0x58: // BINUNICODE
          this.#stack.push(new TextDecoder().decode(this.#take(this.#uint32())));
          break;
        case 0x8c: // SHORT_BINUNICODE
          this.#stack.push(new TextDecoder().decode(this.#take(this.#byte())));
          break;
        case 0x43: // SHORT_BINBYTES
          this.#stack.push(this.#take(this.#byte()).slice());
          break;
        case 0x42: // BINBYTES
          this.#stack.push(this.#take(this.#uint32()).slice());
          break;
        case 0x63: {
          // GLOBAL
          const module = this.#line();
          this.#stack.push(this.#global(module, this.#line()));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const name = this.#pop();
          const module = this.#pop();
          if (typeof module !== 'string' || typeof name !== 'string')
            throw this.#invalid('STACK_GLOBAL without names');
          this.#stack.push(this.#global(module, name));
          break;
        }
        case 0x51: // BINPERSID
          this.#stack.push(this.#persistentLoad(this.#pop()));
          break;
        case 0x52: {
          // REDUCE
          const args = this.#pop();
          const callable = this.#pop();
          this.#stack.push(this.#reduce(callable, args));
          break;
        }
        case 0x62: {
          // BUILD: only the `_metadata` attribute torch sets on a state dict's OrderedDict.
          const state = this.#pop();
          const target = this.#top();
          if (!(target instanceof PickleDict) || !(state instanceof PickleDict || state === null)) {
            throw this.#unsafe('BUILD (setting object state) on something other than a state dict');
          }
          break;
        }
        default:
          throw this.#unsafe(
            `the opcode 0x${opcode.toString(16).padStart(2, '0')} ('${String.fromCharCode(opcode)}')`,
          );
      }
    }
  }

  #persistentLoad(pid: unknown): StorageRef {
    const items = pid instanceof PickleTuple ? pid.items : undefined;
    const [tag, type, key, , numel] = items ?? [];
    if (
      items?.length !== 5 ||
      tag !== 'storage' ||
      !(type instanceof PickleGlobal) ||
      typeof key !== 'string' ||
      typeof numel !== 'number'
    ) {
      throw this.#unsafe('a persistent id that is not a tensor storage');
    }
    const info = STORAGE_DTYPES[type.name.slice('torch.'.length)];
    if (info === undefined) throw this.#unsafe(`'${type.name}' as a storage type`);
    const bytes = this.storage(key);
    if (bytes.byteLength < numel * info.size) {
      throw this.#invalid(
        `storage '${key}' holds ${bytes.byteLength} bytes, expected ${numel * info.size}`,
      );
    }
    return new StorageRef(key, info.dtype, info.size, bytes.subarray(0, numel * info.size));
  }

  #reduce(callable: unknown, args: unknown): unknown {
    if (!(callable instanceof PickleGlobal) || !ALLOWED_CALLABLES.has(callable.name)) {
      throw this.#unsafe(
        `a call of ${callable instanceof PickleGlobal ? `'${callable.name}'` : 'a non-global'}`,
      );
    }
    if (!(args instanceof PickleTuple)) throw this.#invalid('REDUCE without an argument tuple');
    const a = args.items;
    switch (callable.name) {
      case 'collections.OrderedDict': {
        const dict = new PickleDict();
        const pairs = a[0];
        if (a.length > 1) throw this.#invalid('OrderedDict with more than one argument');
        if (Array.isArray(pairs)) {
          for (const pair of pairs) {
            if (!(pair instanceof PickleTuple) || pair.items.length !== 2)
              throw this.#invalid('OrderedDict of non-pairs');
            dict.set(pair.items[0], pair.items[1]);
          }
        } else if (pairs !== undefined) throw this.#invalid('OrderedDict of a non-list');
        return dict;
      }
      case 'torch._utils._rebuild_parameter': {
        if (!(a[0] instanceof TensorRef)) throw this.#invalid('_rebuild_parameter of a non-tensor');
        return a[0];
      }
      default: {
        // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        const [storage, offset, size, stride] = a;
        const ints = (value: unknown): value is PickleTuple =>
          value instanceof PickleTuple &&
          value.items.every((item) => Number.isSafeInteger(item) && (item as number) >= 0);
        if (
          !(storage instanceof StorageRef) ||
          typeof offset !== 'number' ||
          !ints(size) ||
          !ints(stride) ||
          size.items.length !== stride.items.length
        ) {
          throw this.#invalid('_rebuild_tensor_v2 with unexpected arguments');
        }
        return new TensorRef(storage, offset, size.items as number[], stride.items as number[]);
      }
    }
  }
}
