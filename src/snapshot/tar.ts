// A small streaming ustar writer and reader, gzip-compressed with Node's own zlib: regular files and folders
// only, relative paths (long ones through a pax `path` record). Neither side ever holds a whole file in memory.
// The reader refuses what a snapshot never holds: absolute paths, `..`, links, devices, fifos, a name twice. It is
// our own (not a tar library) because common ones have had path-traversal bugs: this one only ever hands its
// caller checked relative paths, and never creates a file itself.
import { createHash } from "node:crypto";
import { closeSync, constants as fsConstants, createReadStream, createWriteStream, fstatSync, openSync } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";

const BLOCK = 512;
const READ_CHUNK = 1 << 20;
/** The largest size the 11 octal digits of a ustar header hold; bigger files get a pax `size` record. */
const USTAR_MAX_SIZE = 0o77777777777;

export type TarEntry =
  | { readonly type: "dir"; readonly path: string; readonly mode: number; readonly mtimeMs: number }
  | {
      readonly type: "file";
      readonly path: string;
      readonly mode: number;
      readonly mtimeMs: number;
      readonly size: number;
      readonly source: FileSource;
    };

/** Where a file's bytes come from: a file on disk (exactly `size` bytes of it are read), or bytes in hand. */
export type FileSource = { readonly file: string } | { readonly bytes: Uint8Array };

/** What the writer saw of each file it archived. */
export type WrittenFile = { readonly path: string; readonly size: number; readonly sha256: string };

class TarFormatError extends Error {
  override name = "TarFormatError";
}

/**
 * Writes `entries` as a gzip-compressed tar to `file`. `onFile` hears each file's checksum right after its bytes,
 * so that a caller can build a manifest and append it as the last entry of the same stream.
 */
export async function writeTarGz(
  file: string,
  entries: AsyncIterable<TarEntry> | Iterable<TarEntry>,
  options: { onFile?: (written: WrittenFile) => void } = {},
): Promise<void> {
  await pipeline(
    tarStream(entries, options.onFile),
    createGzip({ level: 6, chunkSize: 1 << 16 }),
    createWriteStream(file, { flags: "wx", mode: 0o600 }),
  );
}

async function* tarStream(
  entries: AsyncIterable<TarEntry> | Iterable<TarEntry>,
  onFile?: (written: WrittenFile) => void,
): AsyncGenerator<Buffer> {
  for await (const entry of entries) {
    checkEntryPath(entry.path);
    const size = entry.type === "file" ? entry.size : 0;
    yield* headerBlocks(
      entry.type === "dir" ? `${entry.path}/` : entry.path,
      entry.type,
      entry.mode,
      entry.mtimeMs,
      size,
    );
    if (entry.type === "dir") continue;
    const hash = createHash("sha256");
    for await (const chunk of fileChunks(entry.source, entry.size, entry.path)) {
      hash.update(chunk);
      yield chunk;
    }
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (padding > 0) yield Buffer.alloc(padding);
    onFile?.({ path: entry.path, size, sha256: hash.digest("hex") });
  }
  yield Buffer.alloc(BLOCK * 2); // The end-of-archive marker: two zero blocks.
}

/** Exactly `size` bytes: a file that grew meanwhile gives its first `size` bytes; one that shrank is an error. */
async function* fileChunks(source: FileSource, size: number, name: string): AsyncGenerator<Buffer> {
  if ("bytes" in source) {
    if (source.bytes.length !== size)
      throw new Error(`${name}: ${source.bytes.length} bytes given for a size of ${size}`);
    yield Buffer.from(source.bytes);
    return;
  }
  // Not through a link, and not a FIFO or device (a container may swap one in after the file was listed): the
  // archive would hold another file's bytes (a key, restored later into a shared folder), or wait forever.
  const handle = await open(source.file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  try {
    if (!(await handle.stat()).isFile()) throw new Error(`${source.file} is no longer a regular file; try again`);
    for (let position = 0; position < size; ) {
      // A fresh buffer each time: zlib may still hold the previous one.
      const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - position));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) throw new Error(`${source.file} shrank while it was being archived; try again`);
      position += bytesRead;
      yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

function* headerBlocks(
  name: string,
  type: "file" | "dir",
  mode: number,
  mtimeMs: number,
  size: number,
): Generator<Buffer> {
  const split = splitUstarName(name);
  const pax: string[] = [];
  if (!split) pax.push(paxRecord("path", name));
  if (size > USTAR_MAX_SIZE) pax.push(paxRecord("size", String(size)));
  if (pax.length > 0) {
    const body = Buffer.from(pax.join(""));
    yield header({ name: "PaxHeader", prefix: "", type: "x", mode: 0o644, mtimeMs, size: body.length });
    yield Buffer.concat([body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK)]);
  }
  // Without a split, the pax record holds the path; the ustar name field gets what fits.
  const { prefix, base } = split ?? { prefix: "", base: name.slice(0, 99) };
  yield header({
    name: base,
    prefix,
    type: type === "dir" ? "5" : "0",
    mode,
    mtimeMs,
    size: size > USTAR_MAX_SIZE ? 0 : size,
  });
}

/** A pax record: `<length> <key>=<value>\n`, where the length counts itself. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(rest) + 1;
  while (String(length).length + Buffer.byteLength(rest) !== length) length++;
  return `${length}${rest}`;
}

/** ustar holds a name up to 100 bytes, or a prefix of up to 155 bytes and a name of up to 100 split at a "/". */
function splitUstarName(name: string): { prefix: string; base: string } | undefined {
  const bytes = Buffer.from(name);
  if (bytes.length <= 100) return { prefix: "", base: name };
  for (let i = Math.min(bytes.length - 1, 155); i > 0; i--) {
    if (bytes[i] === 0x2f && bytes.length - i - 1 <= 100 && bytes.length - i - 1 > 0) {
      return { prefix: bytes.subarray(0, i).toString(), base: bytes.subarray(i + 1).toString() };
    }
  }
  return undefined;
}

function header(h: {
  name: string;
  prefix: string;
  type: string;
  mode: number;
  mtimeMs: number;
  size: number;
}): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(h.name, 0, 100);
  writeOctal(block, 100, 8, h.mode & 0o7777);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, h.size);
  writeOctal(block, 136, 12, Math.max(0, Math.floor(h.mtimeMs / 1000)));
  block.write(" ".repeat(8), 148, 8);
  block.write(h.type, 156, 1);
  block.write("ustar\u000000", 257, 8, "latin1");
  block.write(h.prefix, 345, 155);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8, "latin1");
  return block;
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, "0")}\u0000`, offset, length, "latin1");
}

/** The checks both sides make on an entry's path: relative, no `..`, `.` or empty parts, no NUL. */
function checkEntryPath(name: string): void {
  if (name.length === 0) throw new TarFormatError("an entry has an empty path");
  if (name.startsWith("/")) throw new TarFormatError(`entry '${name}' has an absolute path`);
  if (name.includes("\u0000")) throw new TarFormatError(`entry '${name}' has a NUL byte in its path`);
  for (const part of name.split("/")) {
    if (part === "..") throw new TarFormatError(`entry '${name}' climbs out of the archive with '..'`);
    if (part === "" || part === ".") throw new TarFormatError(`entry '${name}' has an empty or '.' path part`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

/** An entry as read back: what was written, without where its bytes came from. */
export type ReadEntry = WithoutSource<TarEntry>;
type WithoutSource<Entry> = Entry extends unknown ? Omit<Entry, "source"> : never;

/** Receives a file's bytes in order; `end` is called once all `size` bytes have arrived. */
export type FileSink = { write(chunk: Buffer): void; end(): void };

/**
 * Reads a gzip-compressed tar from `file`, once, as a stream. `onEntry` is called for each folder and file (and
 * returns where a file's bytes go). A truncated or corrupted archive, a bad header checksum, an unsafe path or
 * an entry that is not a plain file or folder rejects with the reason.
 */
export async function readTarGz(file: string, onEntry: (entry: ReadEntry) => FileSink | undefined): Promise<void> {
  const parser = new TarParser(onEntry);
  let refused: unknown;
  try {
    await pipeline(
      createReadStream("", { fd: openArchive(file) }),
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
