// What a project's kept listing knows of its transcripts and start records (its rows), as a summary source: a
// project whose files changed is listed again from them, opening only the files that changed, without loading the
// sessions index. Every source a listing uses is wrapped in one of these, which records what it served: the rows the
// next listing keeps. The rows are read back as untrusted input, checked as the index's are.
import * as z from "zod/mini";
import type { TranscriptSummary } from "../claude/transcript.ts";
import {
  checkStartsRow,
  checkTable,
  checkTranscriptRow,
  type FileKey,
  type IndexedSummary,
  keyMatches,
  type Row,
  type StartsSummary,
  StringTable,
  startsRow,
  transcriptRow,
} from "./index-rows.ts";
import type { SummarySource } from "./model.ts";

/**
 * The kept rows' layout: checked with zod down to each folder's rows, then each row by hand when it is used, as the
 * index's are (zod over every row of a project costs more than reading the transcript that changed).
 */
const rowsSchema = z.object({
  strings: z.array(z.string()),
  transcripts: z.record(z.string(), z.record(z.string(), z.unknown())),
  starts: z.record(z.string(), z.unknown()),
});

type StoredFolder = { readonly table: StringTable; readonly rows: Record<string, Row> };

/** No start records: a session whose records were not a regular file is kept as having none. */
const NO_KEY: FileKey = { size: 0, mtimeMs: 0, ctimeMs: 0, ino: 0 };

export class KeptRows implements SummarySource {
  private readonly folders = new Map<string, StoredFolder>();
  private readonly starts = new Map<string, Row | null>();
  /** The session files the kept rows saw: a start record they did not have was not there then. */
  private readonly known = new Set<string>();
  private readonly served = new Map<string, Map<string, { stats: FileKey; summary: IndexedSummary }>>();
  private readonly servedStarts = new Map<string, StartsSummary | null>();

  /**
   * `stored`: the rows of the projects listed again (each a kept part's rows, as JSON); `transcriptsFrom`: where a
   * transcript is looked up first (the index, which then learns what the kept rows knew), else the kept rows are,
   * else it is read; `startsFrom`: where records are that the kept rows do not hold. With `withStarts` false the kept
   * rows' start records are not used (they were true of the records folder as an older listing saw it).
   */
  constructor(
    stored: readonly Buffer[],
    private readonly transcriptsFrom: SummarySource | undefined,
    private readonly startsFrom: () => SummarySource,
    withStarts = true,
  ) {
    for (const bytes of stored) {
      const parsed = rowsSchema.safeParse(JSON.parse(bytes.toString("utf8")));
      const strings = parsed.success ? checkTable(parsed.data.strings) : undefined;
      if (!parsed.success || strings === undefined) throw new Error("kept rows that are not ours");
      const table = new StringTable(strings);
      for (const [dir, stored] of Object.entries(parsed.data.transcripts)) {
        const rows: Record<string, Row> = {};
        for (const [name, row] of Object.entries(stored)) if (Array.isArray(row)) rows[name] = row;
        this.folders.set(dir, { table, rows });
        if (withStarts) for (const name of Object.keys(rows)) this.known.add(name);
      }
      if (!withStarts) continue;
      for (const [name, row] of Object.entries(parsed.data.starts))
        if (row === null || Array.isArray(row)) this.starts.set(name, row);
    }
  }

  get damaged(): string | undefined {
    return this.transcriptsFrom?.damaged;
  }

  readonly recordNames = {
    has: (name: string): boolean => {
      if (this.starts.has(name)) return true;
      // Kept rows are used only while the records folder is as they saw it: a file they saw had no records then.
      if (this.known.has(name)) return false;
      return this.startsFrom().recordNames.has(name);
    },
  };

  transcript(
    dir: string,
    name: string,
    stats: FileKey,
    read: () => TranscriptSummary,
  ): { summary: IndexedSummary; bytesRead: number; opened: boolean } {
    const folder = this.folders.get(dir);
    const row = folder && Object.hasOwn(folder.rows, name) ? folder.rows[name] : undefined;
    const known =
      row && keyMatches(row, stats) ? checkTranscriptRow(row, folder?.table ?? new StringTable()) : undefined;
    let found: { summary: IndexedSummary; bytesRead: number; opened: boolean };
    if (this.transcriptsFrom) {
      // What the index does not know, the kept rows may (a project listed again without it): it learns it from them.
      let fromKept = false;
      const readKept = known
        ? () => {
            fromKept = true;
            return { ...known, bytesRead: 0 };
          }
        : read;
      found = this.transcriptsFrom.transcript(dir, name, stats, readKept);
      if (fromKept) found = { ...found, opened: false };
    } else if (known) {
      found = { summary: known, bytesRead: 0, opened: false };
    } else {
      const { bytesRead, ...summary } = read();
      found = { summary, bytesRead, opened: true };
    }
    let served = this.served.get(dir);
    if (!served) {
      served = new Map();
      this.served.set(dir, served);
    }
    served.set(name, { stats, summary: found.summary });
    return found;
  }

  startsOf(name: string, read: (file: string) => StartsSummary): StartsSummary | undefined {
    const row = this.starts.get(name);
    const known = row === null ? null : row === undefined ? undefined : checkStartsRow(row);
    const found = known === undefined ? this.startsFrom().startsOf(name, read) : (known ?? undefined);
    this.servedStarts.set(name, found ?? null);
    return found;
  }

  /** The rows to keep for a project of folders `dirs`: what this listing served of them, as JSON. */
  rowsOf(dirs: readonly string[]): string {
    const table = new StringTable();
    const transcripts: Record<string, Record<string, Row>> = {};
    const starts: Record<string, Row | null> = {};
    for (const dir of dirs) {
      const rows: Record<string, Row> = {};
      for (const [name, { stats, summary }] of this.served.get(dir) ?? []) {
        rows[name] = transcriptRow(stats, summary, table);
        const record = this.servedStarts.get(name);
        if (record !== undefined) starts[name] = record === null ? null : startsRow(NO_KEY, record);
      }
      transcripts[dir] = rows;
    }
    return JSON.stringify({ strings: table.strings, transcripts, starts });
  }
}
