// Protobuf encoding and decoding for the client's calls, cheaper than the generated service
// definition's (de)serializers, with the same bytes and the same messages:
//   - int64 fields: @bufbuild/protobuf goes through a BigInt for every value, both ways (and the
//     generated decoder then turns the BigInt into a string and back into a number). Every int64
//     in this API (sequences, counts, request ids, epoch milliseconds) is a safe integer, so
//     Int64Writer writes one below 2^32 as the uint32 varint it is, and Int64Reader reads one below
//     2^53 as a number; anything else (negative, larger) takes the library's own path.
//   - no second copy: the generated serializer copies the writer's bytes into a new Buffer;
//     encode() hands grpc-js a Buffer over the same memory.
// Measured in bench/findings.md (round 18): with the producer's encode-once (producer.ts) they
// took the Node client's CPU per enqueued item from ~18 to ~11 µs.
import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";

const TWO_32 = 4294967296;

/** A BinaryWriter whose int64 writes a non-negative value below 2^32 without a BigInt. */
export class Int64Writer extends BinaryWriter {
  override int64(value: string | number | bigint): this {
    // An int64 varint of 0 <= v < 2^32 is the uint32 varint of v (sign extension only matters
    // for negative values).
    if (typeof value === "number" && value >= 0 && value < TWO_32 && Number.isInteger(value)) {
      return this.uint32(value);
    }
    return super.int64(value);
  }
}

/**
 * A BinaryReader whose int64 returns a number for a value in [0, 2^53): the generated decoders
 * only pass it to their longToNumber (`Number(v.toString())`), which gives the same number.
 */
export class Int64Reader extends BinaryReader {
  private readonly octets: Uint8Array;

  constructor(buf: Uint8Array) {
    super(buf);
    this.octets = buf;
  }

  override int64(): bigint | string {
    const buf = this.octets;
    const start = this.pos;
    let value = 0;
    let scale = 1;
    // Up to 7 bytes (49 bits) as doubles are exact; an 8-byte varint (< 2^56) only if < 2^53.
    for (let i = 0; i < 8 && start + i < this.len; i++) {
      const b = buf[start + i];
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (value > Number.MAX_SAFE_INTEGER) break;
        this.pos = start + i + 1;
        return value as unknown as bigint; // see the class comment: only longToNumber reads it
      }
      scale *= 128;
    }
    this.pos = start;
    return super.int64(); // negative (10-byte varint), too large, or truncated: the library's way
  }
}

interface Codec<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
  decode(input: BinaryReader | Uint8Array, length?: number): T;
}

/** The message's bytes as a Buffer (no copy beyond the writer's own). */
export function encode<T>(codec: Codec<T>, message: T, writer: BinaryWriter = new Int64Writer()): Buffer {
  const bytes = codec.encode(message, writer).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A grpc-js deserializer for the message type. */
export function decoder<T>(codec: Codec<T>): (buf: Buffer) => T {
  return (buf) => codec.decode(new Int64Reader(buf));
}

/** A grpc-js serializer for the message type. */
export function encoder<T>(codec: Codec<T>): (message: T) => Buffer {
  return (message) => encode(codec, message);
}

const scratch = new Int64Writer();

/** One message's bytes, encoded once (e.g. to be framed into a request later by `repeated`). */
export function encodeItem<T>(codec: Codec<T>, message: T): Uint8Array {
  return codec.encode(message, scratch).finish(); // finish() copies out and resets the writer
}

/**
 * A request made of `head` (the encoding of its other fields) followed by `items`, each an
 * encoded message of the repeated message field `fieldNumber`: the bytes the generated encoder
 * would write for the same request, with the items' encoding done once, when they were added.
 */
export function withRepeated(head: Uint8Array, fieldNumber: number, items: readonly Uint8Array[]): Buffer {
  const tag = (fieldNumber << 3) | 2; // length-delimited
  let size = head.length;
  for (const item of items) size += varintSize(tag) + varintSize(item.length) + item.length;
  const out = Buffer.allocUnsafe(size);
  out.set(head, 0);
  let pos = head.length;
  for (const item of items) {
    pos = writeVarint(out, pos, tag);
    pos = writeVarint(out, pos, item.length);
    out.set(item, pos);
    pos += item.length;
  }
  return out;
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function writeVarint(out: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    out[pos++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[pos++] = v;
  return pos;
}
