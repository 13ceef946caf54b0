// The streaming reader of the ustar archives tar.ts writes, gunzipped with Node's own zlib; it never holds a whole
// file in memory. It refuses what a snapshot never holds: absolute paths, `..`, links, devices, fifos, a name twice.
// It is our own (not a tar library) because common ones have had path-traversal bugs: this one only ever hands its
// caller checked relative paths, and never creates a file itself.
import { closeSync, constants as fsConstants, createReadStream, fstatSync, openSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { BLOCK, checkEntryPath, type TarEntry, TarFormatError } from "./tar.ts";

/** An entry as read back: what was written, without where its bytes came from. */
export type ReadEntry = WithoutSource<TarEntry>;
type WithoutSource<Entry> = Entry extends unknown ? Omit<Entry, "source"> : never;

/** Receives a file's bytes in order; `end` is called once all `size` bytes have arrived. */
export type FileSink = { write(chunk: Buffer): void; end(): void };

/**
 * Reads a gzip-compressed tar from `file`, once, as a stream. `onEntry` is called for each folder and file (and
 * returns where a file's bytes go). A truncated or corrupted archive, a bad header checksum, an unsafe path or
 * an entry that is not a plain file or folder rejects with the reason. `open` opens it instead of its path (one in
 * a folder a container writes is opened through the gate).
 */
export async function readTarGz(
  file: string,
  onEntry: (entry: ReadEntry) => FileSink | undefined,
  open: () => number = () => openArchive(file),
): Promise<void> {
  const parser = new TarParser(onEntry);
  let refused: unknown;
  try {
    await pipeline(
      createReadStream("", { fd: open() }),
      createGunzip({ chunkSize: 1 << 17 }),
      async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) {
          try {
            parser.push(chunk);
          } catch (error) {
            refused = error;
            throw error;
          }
        }
      },
    );
  } catch (error) {
    // Stopping the pipeline from its last step surfaces as an AbortError: the reason is the parser's.
    throw refused ?? describeZlibError(error);
  }
  parser.finish();
}

/**
 * Opens `file` for reading only if it is a regular file itself: not a link (it may lie in a folder a container
 * writes), and not a FIFO or device, whose reads would hang or never end.
 */
function openArchive(file: string): number {
  const fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new TarFormatError(`${file} is not a regular file`);
  }
  return fd;
}

/** Splits the decompressed stream into headers and file bodies, carrying partial blocks between chunks. */
class TarParser {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /** The body being read (a file's, or a pax header's): its sink, the bytes still to come, then the padding to skip. */
  private body: { sink: FileSink | undefined; remaining: number; padding: number } | undefined;
  private pax: { path?: string; size?: number } | undefined;
  private ended = false;
  /** Every path seen: a second entry of the same name would replace (or write into) the first. */
  private readonly seen = new Set<string>();

  constructor(private readonly onEntry: (entry: ReadEntry) => FileSink | undefined) {}

  push(chunk: Buffer): void {
    let data = chunk;
    while (data.length > 0) {
      if (this.ended) {
        // After the end marker only zero padding may follow (tar pads to a record size).
        if (data.some((byte) => byte !== 0)) throw new TarFormatError("data after the end of the archive");
        return;
      }
      data = this.body ? this.feedBody(data) : this.feedHeader(data);
    }
  }

  finish(): void {
    if (!this.ended) throw new TarFormatError("it ends early (no end-of-archive marker): the archive is truncated");
  }

  private feedBody(data: Buffer): Buffer {
    const body = this.body;
    if (!body) return data;
    if (body.remaining > 0) {
      const take = Math.min(body.remaining, data.length);
      body.sink?.write(data.subarray(0, take));
      body.remaining -= take;
      if (body.remaining === 0) body.sink?.end();
      data = data.subarray(take);
    }
    const skip = Math.min(body.padding, data.length);
    body.padding -= skip;
    if (body.remaining === 0 && body.padding === 0) this.body = undefined;
    return data.subarray(skip);
  }

  private feedHeader(data: Buffer): Buffer {
    const need = BLOCK - this.pendingLength;
    const take = Math.min(need, data.length);
    this.pending.push(data.subarray(0, take));
    this.pendingLength += take;
    if (this.pendingLength < BLOCK) return data.subarray(take);
    const block = Buffer.concat(this.pending, BLOCK);
    this.pending = [];
    this.pendingLength = 0;
    this.readHeader(block);
    return data.subarray(take);
  }

  private zeroBlocks = 0;

  private readHeader(block: Buffer): void {
    if (block.every((byte) => byte === 0)) {
      if (this.pax) throw new TarFormatError("a pax header is not followed by its entry");
      if (++this.zeroBlocks === 2) this.ended = true;
      return;
    }
    if (this.zeroBlocks > 0) throw new TarFormatError("a lone zero block inside the archive");
    if (!verifyChecksum(block)) throw new TarFormatError("a header's checksum does not match");
    if (block.toString("latin1", 257, 262) !== "ustar") throw new TarFormatError("an entry is not in ustar format");
    const type = String.fromCharCode(block[156] ?? 0);
    const size = this.pax?.size ?? readOctal(block, 124, 12);
    if (type === "x") {
      if (this.pax) throw new TarFormatError("two pax headers in a row");
      if (size > 64 * 1024) throw new TarFormatError("a pax header is implausibly large");
      const chunks: Buffer[] = [];
      const collect: FileSink = {
        write: (chunk) => chunks.push(Buffer.from(chunk)),
        end: () => {
          this.pax = parsePax(Buffer.concat(chunks));
        },
      };
      this.startBody(size, collect);
      return;
    }
    const name = block.toString("utf8", 0, 100).replace(/\0.*$/s, "");
    const prefix = block.toString("utf8", 345, 500).replace(/\0.*$/s, "");
    let entryPath = this.pax?.path ?? (prefix ? `${prefix}/${name}` : name);
    this.pax = undefined;
    const mode = readOctal(block, 100, 8) & 0o7777;
    const mtimeMs = readOctal(block, 136, 12) * 1000;
    if (type === "5") {
      entryPath = entryPath.replace(/\/+$/, "");
      this.checkNew(entryPath);
      if (size !== 0) throw new TarFormatError(`folder entry '${entryPath}' has a size`);
      this.onEntry({ type: "dir", path: entryPath, mode, mtimeMs });
      return;
    }
    if (type !== "0" && type !== "\u0000")
      throw new TarFormatError(`entry '${entryPath}' is ${describeType(type)}, which a snapshot never holds`);
    this.checkNew(entryPath);
    this.startBody(size, this.onEntry({ type: "file", path: entryPath, mode, mtimeMs, size }));
  }

  private checkNew(entryPath: string): void {
    checkEntryPath(entryPath);
    if (this.seen.has(entryPath)) throw new TarFormatError(`entry '${entryPath}' appears twice`);
    this.seen.add(entryPath);
  }

  private startBody(size: number, sink: FileSink | undefined): void {
    if (size === 0) sink?.end();
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size > 0 || padding > 0) this.body = { sink, remaining: size, padding };
  }
}

function describeZlibError(error: unknown): unknown {
  const code = error instanceof Error && "code" in error ? error.code : undefined;
  if (code === "Z_BUF_ERROR") return new TarFormatError("it ends early: the archive is truncated");
  if (code === "Z_DATA_ERROR" && error instanceof Error)
    return new TarFormatError(`its compressed data is corrupted: ${error.message}`);
  return error;
}

function describeType(type: string): string {
  const names: Record<string, string> = {
    "1": "a hard link",
    "2": "a symbolic link",
    "3": "a character device",
    "4": "a block device",
    "6": "a fifo",
    "7": "a contiguous file",
    g: "a global pax header",
    L: "a GNU long name",
    K: "a GNU long link name",
  };
  return names[type] ?? `of unknown type '${type}'`;
}

function verifyChecksum(block: Buffer): boolean {
  const stored = readOctal(block, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
  return sum === stored;
}

function readOctal(block: Buffer, offset: number, length: number): number {
  const text = block
    .toString("latin1", offset, offset + length)
    .replace(/[\0 ]+$/g, "")
    .trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError("a header holds a malformed number");
  return Number.parseInt(text, 8);
}

function parsePax(body: Buffer): { path?: string; size?: number } {
  const result: { path?: string; size?: number } = {};
  let offset = 0;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    const length = Number(body.toString("latin1", offset, space));
    if (space < 0 || !Number.isSafeInteger(length) || length <= 0 || offset + length > body.length) {
      throw new TarFormatError("a pax header is malformed");
    }
    const record = body.toString("utf8", space + 1, offset + length - 1);
    const equals = record.indexOf("=");
    const key = record.slice(0, equals);
    const value = record.slice(equals + 1);
    if (key === "path") result.path = value;
    else if (key === "size") {
      if (!/^\d{1,15}$/.test(value)) throw new TarFormatError("a pax size is malformed or implausibly large");
      result.size = Number(value);
    }
    offset += length;
  }
  return result;
}
