// A small streaming ustar writer, gzip-compressed with Node's own zlib: regular files and folders only, relative
// paths (long ones through a pax `path` record). It never holds a whole file in memory. Its reader is tar-read.ts,
// which shares the format's block size, entry type and path checks from here.
import { createHash } from "node:crypto";
import { closeSync, constants as fsConstants, createWriteStream, readSync } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";

export const BLOCK = 512;
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

/**
 * Where a file's bytes come from: a file on disk (exactly `size` bytes of it are read), one opened by the caller
 * (`open` gives a descriptor the writer closes: a file in a folder a container writes, opened through the gate), or
 * bytes in hand.
 */
export type FileSource = { readonly file: string } | { readonly open: () => number } | { readonly bytes: Uint8Array };

/** What the writer saw of each file it archived. */
export type WrittenFile = { readonly path: string; readonly size: number; readonly sha256: string };

export class TarFormatError extends Error {
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
  if ("open" in source) {
    yield* descriptorChunks(source.open(), size, name);
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

/** `size` bytes of the open regular file `fd`, which it closes. */
function* descriptorChunks(fd: number, size: number, name: string): Generator<Buffer> {
  try {
    for (let position = 0; position < size; ) {
      const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - position));
      const bytesRead = readSync(fd, buffer, 0, buffer.length, position);
      if (bytesRead === 0) throw new Error(`${name} shrank while it was being archived; try again`);
      position += bytesRead;
      yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
    }
  } finally {
    closeSync(fd);
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
export function checkEntryPath(name: string): void {
  if (name.length === 0) throw new TarFormatError("an entry has an empty path");
  if (name.startsWith("/")) throw new TarFormatError(`entry '${name}' has an absolute path`);
  if (name.includes("\u0000")) throw new TarFormatError(`entry '${name}' has a NUL byte in its path`);
  for (const part of name.split("/")) {
    if (part === "..") throw new TarFormatError(`entry '${name}' climbs out of the archive with '..'`);
    if (part === "" || part === ".") throw new TarFormatError(`entry '${name}' has an empty or '.' path part`);
  }
}
