import { createRequire as __cpRequire } from 'node:module'; const require = __cpRequire(import.meta.url);
import{b as C,d as S}from"./chunk-SUAVW25P.mjs";import"./chunk-CYU6E6DH.mjs";import{a as d,b as p,c as f}from"./chunk-RFC6QVBG.mjs";import"./chunk-KPNQKYXO.mjs";import{a as u,c as m,d as g,f as w,h as y}from"./chunk-2LL7RR5B.mjs";import"./chunk-HJHYKQGU.mjs";import{a as r}from"./chunk-J4H4DSBX.mjs";import"./chunk-YXYEDACH.mjs";import"./chunk-B4O67RG4.mjs";import{jc as h}from"./chunk-RVN5WOLE.mjs";import"./chunk-L5F5NZYY.mjs";import"./chunk-HB5W3DQL.mjs";var c={all:{type:"boolean",help:"every project under Claude Code's projects/ folder, grouped by project"},json:{type:"boolean",help:"print one JSON object: { ok, sessions: [...] }"},stats:{type:"boolean",help:`print on stderr how much of the transcripts was read (only their first and last lines are, and only
of those that changed since the last listing)`}},j=`Usage: claude-persist sessions ${f(c)}

Lists the Claude Code sessions of this project (the git repository of the current folder, with all its
worktrees and the dev containers opened with /dev-open), newest first, with the command that resumes each.
${p(c)}`,L={flags:c,help:j,async run(e,s){let{values:n}=d("claude-persist sessions",e,c),t=n.all?S(s.env,s.cwd):await C(s.env,s.cwd),l=t.projects.flatMap(o=>o.sessions);n.json?u(s,{ok:!0,sessions:l}):l.length===0?s.stdout(b(s,t,!!n.all)):s.stdout(await I(t,m(s)));for(let o of t.notes)s.stderr(`claude-persist sessions: ${r(o)}
`);return n.stats&&s.stderr(R(t)),0}};function b(e,s,n){if(n)return`No Claude Code sessions in ${h(e.env)} yet.
Claude Code keeps a session there for each conversation you start with \`claude\` in a folder; they are listed here then.
`;let t=s.projects[0]?.project??e.cwd;return`No Claude Code sessions for ${t} yet.
Start one with \`claude\` in ${t}, in one of its git worktrees, or in its dev container (open it with /dev-open);
it is listed here then, with the command that resumes it. 'claude-persist sessions --all' lists every project's.
`}var a=["LAST ACTIVITY","BRANCH","WORK ITEM","RAN IN","FIRST PROMPT","RESUME"];async function I(e,s){let n=e.projects.filter(i=>i.sessions.length>0).map(i=>({project:i,rows:i.sessions.map(v)})),t=await g([a,...n.flatMap(i=>i.rows)],s,{uncut:[a.indexOf("LAST ACTIVITY"),a.indexOf("RESUME")],optional:[a.indexOf("WORK ITEM"),a.indexOf("RAN IN"),a.indexOf("BRANCH")]}),l=t.shift()??"",o=[];for(let{project:i,rows:$}of n)o.length>0&&o.push(""),o.push(`${r(i.project)}: ${w(i.sessions.length,"session")}, newest first`),o.push(l,...t.splice(0,$.length));return`${o.join(`
`)}
`}function v(e){let s=[...new Set(e.environments.map(n=>n.machine?`${n.kind}:${n.machine}`:n.kind))];return[y(e.lastActivity),r(e.branch??"-",32),r(e.workItem?.identifier??"-",40),r(s.join(", "))||"-",r(e.firstPrompt??"-",48),e.resume]}function R({stats:e}){let s=e.totalBytes>0?(100*e.bytesRead/e.totalBytes).toFixed(3):"0";return`claude-persist sessions: read ${e.bytesRead} of ${e.totalBytes} bytes (${s}%) in ${e.transcripts} transcripts, ${e.folders} folders; opened ${e.opened} transcripts, ${e.transcripts-e.opened} unchanged since the last listing
`+(e.indexDamage?`claude-persist sessions: the sessions index was not usable (${e.indexDamage}), so it was rebuilt
`:"")}export{L as sessions};
