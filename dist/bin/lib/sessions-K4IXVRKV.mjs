import { createRequire as __cpRequire } from 'node:module'; const require = __cpRequire(import.meta.url);
import{a as w,c as y}from"./chunk-ZGOIE4DW.mjs";import"./chunk-MHZNZR7E.mjs";import{c,f as p,n as u}from"./chunk-SLWT22NA.mjs";import{a as h,c as m,d as g}from"./chunk-PNB6BAC4.mjs";import{a as i}from"./chunk-VCPGHPBK.mjs";import{$d as f}from"./chunk-XNDMTC7J.mjs";import"./chunk-L5F5NZYY.mjs";import"./chunk-HB5W3DQL.mjs";var j=p({all:c().optional(),json:c().optional(),stats:c().optional()}),b={all:{type:"boolean"},json:{type:"boolean"},stats:{type:"boolean"}},S=`Usage: claude-persist sessions [--all] [--json] [--stats]

Lists the Claude Code sessions of this project (the git repository of the current folder, with all its
worktrees and the dev containers opened with /dev-open), newest first, with the command that resumes each.
  --all    every project under Claude Code's projects/ folder, grouped by project
  --json   print one JSON object: { ok, sessions: [...] }
  --stats  print on stderr how much of the transcripts was read (only their first and last lines are, and only
           of those that changed since the last listing)
`,k={help:S,async run(e,s){let{values:t}=u("claude-persist sessions",e,b,j),n=t.all?y(s.env,s.cwd):await w(s.env,s.cwd),l=n.projects.flatMap(o=>o.sessions);t.json?h(s,{ok:!0,sessions:l}):l.length===0?s.stdout(C(s,n,!!t.all)):s.stdout(I(n,m(s)));for(let o of n.notes)s.stderr(`claude-persist sessions: ${i(o)}
`);return t.stats&&s.stderr(T(n)),0}};function C(e,s,t){if(t)return`No Claude Code sessions in ${f(e.env)} yet.
Claude Code keeps a session there for each conversation you start with \`claude\` in a folder; they are listed here then.
`;let n=s.projects[0]?.project??e.cwd;return`No Claude Code sessions for ${n} yet.
Start one with \`claude\` in ${n}, in one of its git worktrees, or in its dev container (open it with /dev-open);
it is listed here then, with the command that resumes it. 'claude-persist sessions --all' lists every project's.
`}var a=["LAST ACTIVITY","BRANCH","WORK ITEM","RAN IN","FIRST PROMPT","RESUME"];function I(e,s){let t=e.projects.filter(r=>r.sessions.length>0).map(r=>({project:r,rows:r.sessions.map(v)})),n=g([a,...t.flatMap(r=>r.rows)],s,{uncut:[a.indexOf("LAST ACTIVITY"),a.indexOf("RESUME")],optional:[a.indexOf("WORK ITEM"),a.indexOf("RAN IN"),a.indexOf("BRANCH")]}),l=n.shift()??"",o=[];for(let{project:r,rows:$}of t){o.length>0&&o.push("");let d=r.sessions.length;o.push(`${i(r.project)}: ${d} session${d===1?"":"s"}, newest first`),o.push(l,...n.splice(0,$.length))}return`${o.join(`
`)}
`}function v(e){let s=[...new Set(e.environments.map(t=>t.machine?`${t.kind}:${t.machine}`:t.kind))];return[R(e.lastActivity),i(e.branch??"-",32),i(e.workItem?.identifier??"-",40),i(s.join(", "))||"-",i(e.firstPrompt??"-",48),e.resume]}function R(e){let s=new Date(e),t=n=>String(n).padStart(2,"0");return`${s.getFullYear()}-${t(s.getMonth()+1)}-${t(s.getDate())} ${t(s.getHours())}:${t(s.getMinutes())}`}function T({stats:e}){let s=e.totalBytes>0?(100*e.bytesRead/e.totalBytes).toFixed(3):"0";return`claude-persist sessions: read ${e.bytesRead} of ${e.totalBytes} bytes (${s}%) in ${e.transcripts} transcripts, ${e.folders} folders; opened ${e.opened} transcripts, ${e.transcripts-e.opened} unchanged since the last listing
`+(e.indexDamage?`claude-persist sessions: the sessions index was not usable (${e.indexDamage}), so it was rebuilt
`:"")}export{k as sessions};
