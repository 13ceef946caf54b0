// How `sessions` prints: one JSON document, or one table for all projects (so the columns line up across them),
// each project under its own heading. `sessions --all` prints a project at a time (see ProjectPrinter), so that a
// project whose sessions did not change prints what it printed last time.
import { projectsDir } from "../claude/home.ts";
import type { Io } from "../command.ts";
import type { ProjectPrinter, ProjectSessions, SessionInfo, SessionListing } from "../sessions/sessions.ts";
import { oneLine } from "../text.ts";
import { type ColumnLayout, columnWidths, fitColumns, formatJson, formatTime, plural, renderRows } from "./output.ts";

const COLUMNS = ["LAST ACTIVITY", "BRANCH", "WORK ITEM", "RAN IN", "FIRST PROMPT", "RESUME"] as const;
const RULES = {
  uncut: [COLUMNS.indexOf("LAST ACTIVITY"), COLUMNS.indexOf("RESUME")],
  optional: [COLUMNS.indexOf("WORK ITEM"), COLUMNS.indexOf("RAN IN"), COLUMNS.indexOf("BRANCH")],
};

/** `formatJson({ ok: true, sessions })` around the sessions: a project's part is what lies between. */
const JSON_OPEN = '{\n  "ok": true,\n  "sessions": [\n';
const JSON_CLOSE = "\n  ]\n}\n";

/** How `sessions --all` prints: as JSON, or as a table `columns` wide in the time zone `timeZone` names. */
export function allPrinter(
  io: Io,
  how: { json: boolean; columns: number | undefined; timeZone: string },
): ProjectPrinter {
  const none = () => (how.json ? formatJson({ ok: true, sessions: [] }) : describeNone(io, undefined));
  if (how.json) {
    return {
      kind: "json",
      details: "",
      measure: async () => [],
      layout: () => [],
      print: async (project) => {
        const whole = formatJson({ ok: true, sessions: project.sessions });
        if (!whole.startsWith(JSON_OPEN) || !whole.endsWith(JSON_CLOSE))
          throw new Error("formatJson changed its layout");
        return whole.slice(JSON_OPEN.length, -JSON_CLOSE.length);
      },
      open: JSON_OPEN,
      separator: ",\n",
      close: JSON_CLOSE,
      none,
    };
  }
  return {
    kind: "table",
    // A table's times are local times, and its width the terminal's: the same listing prints differently elsewhere.
    details: `${how.columns ?? "unbounded"} ${how.timeZone}`,
    measure: (project) => columnWidths(project.sessions.map(row)),
    layout: (measures) => encodeLayout(tableLayout(measures, how.columns)),
    print: async (project, layout) => printProject(project, decodeLayout(layout)),
    open: "",
    separator: "\n\n",
    close: "\n",
    none,
  };
}

/** What `sessions` prints for one project's listing (or a listing made without a printer). */
export async function render(
  io: Io,
  listing: SessionListing,
  how: { json: boolean; columns: number | undefined },
): Promise<string> {
  const all = listing.projects.flatMap((project) => project.sessions);
  if (how.json) return formatJson({ ok: true, sessions: all });
  if (all.length === 0) return describeNone(io, listing.projects[0]?.project ?? io.cwd);
  const shown = listing.projects.filter((project) => project.sessions.length > 0);
  const layout = tableLayout(await Promise.all(shown.map((p) => columnWidths(p.sessions.map(row)))), how.columns);
  return `${shown.map((project) => printProject(project, layout)).join("\n\n")}\n`;
}

/** The layout of one table of every project's rows under the titles. */
function tableLayout(measures: ReadonlyArray<readonly number[]>, columns: number | undefined): ColumnLayout {
  const natural = COLUMNS.map((title, i) => Math.max(title.length, ...measures.map((widths) => widths[i] ?? 0)));
  return fitColumns(natural, COLUMNS, columns, RULES);
}

function encodeLayout({ shown, widths }: ColumnLayout): number[] {
  return [shown.length, ...shown, ...widths];
}

function decodeLayout(layout: readonly number[]): ColumnLayout {
  const count = layout[0] ?? 0;
  return { shown: layout.slice(1, 1 + count), widths: layout.slice(1 + count) };
}

/** A project's heading, the titles and its rows, in the table's layout. */
function printProject(project: ProjectSessions, layout: ColumnLayout): string {
  const [header = ""] = renderRows([COLUMNS], layout);
  const heading = `${oneLine(project.project)}: ${plural(project.sessions.length, "session")}, newest first`;
  return [heading, header, ...renderRows(project.sessions.map(row), layout)].join("\n");
}

/** No session to list: of every project (`project` undefined), or of `project`. */
function describeNone(io: Io, project: string | undefined): string {
  if (project === undefined) {
    return (
      `No Claude Code sessions in ${projectsDir(io.env)} yet.\n` +
      "Claude Code keeps a session there for each conversation you start with `claude` in a folder; they are listed here then.\n"
    );
  }
  return (
    `No Claude Code sessions for ${project} yet.\n` +
    `Start one with \`claude\` in ${project}, in one of its git worktrees, or in its dev container (open it with /dev-open);\n` +
    "it is listed here then, with the command that resumes it. 'claude-persist sessions --all' lists every project's.\n"
  );
}

function row(session: SessionInfo): string[] {
  const ranIn = [...new Set(session.environments.map((e) => (e.machine ? `${e.kind}:${e.machine}` : e.kind)))];
  return [
    formatTime(session.lastActivity),
    oneLine(session.branch ?? "-", 32),
    oneLine(session.workItem?.identifier ?? "-", 40),
    oneLine(ranIn.join(", ")) || "-",
    oneLine(session.firstPrompt ?? "-", 48),
    session.resume,
  ];
}
