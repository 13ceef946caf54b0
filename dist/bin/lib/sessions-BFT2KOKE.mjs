import { createRequire as __cpRequire } from 'node:module'; const require = __cpRequire(import.meta.url);
import{a as u,c as f}from"./chunk-D26F5HRX.mjs";import"./chunk-N56LC7CB.mjs";import{c,f as d,n as p}from"./chunk-YM6QODTN.mjs";import{a as l}from"./chunk-FKKHG2JK.mjs";import{$d as h}from"./chunk-5XTAE3ZC.mjs";import"./chunk-3NN5UTYV.mjs";import"./chunk-HB5W3DQL.mjs";var w=d({all:c().optional(),json:c().optional(),stats:c().optional()}),y={all:{type:"boolean"},json:{type:"boolean"},stats:{type:"boolean"}},$=`Usage: claude-persist sessions [--all] [--json] [--stats]

Lists the Claude Code sessions of this project (the git repository of the current folder, with all its
worktrees and the dev containers opened with /dev-open), newest first, with the command that resumes each.
  --all    every project under Claude Code's projects/ folder, grouped by project
  --json   print one JSON array of sessions
  --stats  print on stderr how much of the transcripts was read (only their first and last lines are, and only
           of those that changed since the last listing)
`,T={help:$,async run(e,t){let{values:s}=p("claude-persist sessions",e,y,w),o=s.all?f(t.env,t.cwd):await u(t.env,t.cwd),r=o.projects.flatMap(n=>n.sessions);s.json?t.stdout(`${JSON.stringify(r,null,2)}
`):r.length===0?t.stdout(j(t,o,!!s.all)):t.stdout(S(o));for(let n of o.notes)t.stderr(`claude-persist sessions: ${n}
`);return s.stats&&t.stderr(v(o)),0}};function j(e,t,s){if(s)return`No Claude Code sessions in ${h(e.env)} yet.
Claude Code keeps a session there for each conversation you start with \`claude\` in a folder; they are listed here then.
`;let o=t.projects[0]?.project??e.cwd;return`No Claude Code sessions for ${o} yet.
Start one with \`claude\` in ${o}, in one of its git worktrees, or in its dev container (open it with /dev-open);
it is listed here then, with the command that resumes it. 'claude-persist sessions --all' lists every project's.
`}var m=["LAST ACTIVITY","BRANCH","WORK ITEM","RAN IN","FIRST PROMPT","RESUME"];function S(e){let t=e.projects.filter(n=>n.sessions.length>0).map(n=>({project:n,rows:n.sessions.map(b)})),s=m.map((n,a)=>Math.max(n.length,...t.flatMap(i=>i.rows.map(g=>(g[a]??"").length)))),o=n=>`  ${n.map((a,i)=>i===n.length-1?a:a.padEnd(s[i]??0)).join("  ")}`.trimEnd(),r=[];for(let{project:n,rows:a}of t){r.length>0&&r.push("");let i=n.sessions.length;r.push(`${n.project}: ${i} session${i===1?"":"s"}, newest first`),r.push(o(m),...a.map(o))}return`${r.join(`
`)}
`}function b(e){let t=[...new Set(e.environments.map(s=>s.machine?`${s.kind}:${s.machine}`:s.kind))];return[C(e.lastActivity),l(e.branch??"-",32),l(e.workItem?.identifier??"-",40),l(t.join(", "))||"-",l(e.firstPrompt??"-",48),e.resume]}function C(e){let t=new Date(e),s=o=>String(o).padStart(2,"0");return`${t.getFullYear()}-${s(t.getMonth()+1)}-${s(t.getDate())} ${s(t.getHours())}:${s(t.getMinutes())}`}function v({stats:e}){let t=e.totalBytes>0?(100*e.bytesRead/e.totalBytes).toFixed(3):"0";return`claude-persist sessions: read ${e.bytesRead} of ${e.totalBytes} bytes (${t}%) in ${e.transcripts} transcripts, ${e.folders} folders; opened ${e.opened} transcripts, ${e.transcripts-e.opened} unchanged since the last listing
`+(e.indexDamage?`claude-persist sessions: the sessions index was not usable (${e.indexDamage}), so it was rebuilt
`:"")}export{T as sessions};
