// node:crypto, loaded on first use: it loads node's stream modules with it, which cost the SessionStart hook more
// than all of its own work, while the hook needs it only on its rare paths (a temp file's name, a sync identity).
import { createRequire } from "node:module";

type Crypto = typeof import("node:crypto");

let loaded: Crypto | undefined;

function crypto(): Crypto {
  loaded ??= createRequire(import.meta.url)("node:crypto") as Crypto;
  return loaded;
}

/** `bytes` random bytes as hex, for names no one else can guess. */
export function randomHex(bytes: number): string {
  return crypto().randomBytes(bytes).toString("hex");
}

/** `bytes` random bytes as base64url: a secret such as an API key. */
export function randomBase64Url(bytes: number): string {
  return crypto().randomBytes(bytes).toString("base64url");
}

/** The SHA-256 of `text` (or bytes) as hex. */
export function sha256Hex(text: string | Buffer): string {
  return crypto().createHash("sha256").update(text).digest("hex");
}

/** A random UUID (v4). */
export function randomUuid(): string {
  return crypto().randomUUID();
}
