import { readFileSync } from 'node:fs';
import { EventFileError } from '../errors.js';
import { DT_STRING, decodeEvent, type HistogramData, type SummaryValueMessage } from './proto.js';
import { decodeRecords } from './record.js';

/** One value of a summary, as {@link readEventFile} returns it. */
export type SummaryValue =
  | { kind: 'scalar'; tag: string; value: number }
  | { kind: 'text'; tag: string; text: string }
  | { kind: 'histogram'; tag: string; histogram: HistogramData }
  | { kind: 'other'; tag: string };

/** One event of an event file. */
export interface TensorBoardEvent {
  /** Seconds since the epoch. */
  wallTime: number;
  step: number;
  /** Set on the first event only (`brain.Event:2`). */
  fileVersion?: string;
  /** The summary's values (empty for the file-version event). */
  values: SummaryValue[];
}

/**
 * Reads a TensorBoard event file written by {@link TensorBoardWriter} (or any writer of scalars,
 * text and histograms), checking every record's CRCs.
 *
 * @throws {@link EventFileError} for a truncated record, a CRC mismatch or an undecodable event.
 */
export function readEventFile(path: string): TensorBoardEvent[] {
  return readEvents(readFileSync(path), path);
}

/** {@link readEventFile} for bytes already in memory. */
export function readEvents(bytes: Uint8Array, source = '<buffer>'): TensorBoardEvent[] {
  return decodeRecords(bytes, source).map((record, index) => {
    let message: ReturnType<typeof decodeEvent>;
    try {
      message = decodeEvent(record);
    } catch (error) {
      throw new EventFileError(`${source}: record ${index} is not an Event proto.`, {
        cause: error,
      });
    }
    const event: TensorBoardEvent = {
      wallTime: message.wallTime,
      step: message.step,
      values: (message.summary?.value ?? []).map(toSummaryValue),
    };
    if (message.fileVersion) event.fileVersion = message.fileVersion;
    return event;
  });
}

function toSummaryValue(value: SummaryValueMessage): SummaryValue {
  const { tag } = value;
  if (value.histo) return { kind: 'histogram', tag, histogram: value.histo };
  if (value.tensor && value.tensor.dtype === DT_STRING) {
    const bytes = value.tensor.stringVal?.[0] ?? new Uint8Array();
    return { kind: 'text', tag, text: new TextDecoder().decode(bytes) };
  }
  if (value.simpleValue !== undefined && value.simpleValue !== null) {
    return { kind: 'scalar', tag, value: value.simpleValue };
  }
  return { kind: 'other', tag };
}
