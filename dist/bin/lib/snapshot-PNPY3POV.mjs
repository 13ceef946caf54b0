import { createRequire as __cpRequire } from 'node:module'; const require = __cpRequire(import.meta.url);
import{a as g,b as C,d as B,e as N,f as I}from"./chunk-JHRLSK5T.mjs";import"./chunk-ZGOIE4DW.mjs";import"./chunk-MHZNZR7E.mjs";import{a as j,b as y,c as v,f as S,n as l}from"./chunk-SLWT22NA.mjs";import{a as u,c as b,d as x,e as w}from"./chunk-PNB6BAC4.mjs";import{a as d}from"./chunk-VCPGHPBK.mjs";import"./chunk-XNDMTC7J.mjs";import{b as k}from"./chunk-L5F5NZYY.mjs";import"./chunk-HB5W3DQL.mjs";var P=`Usage: claude-persist snapshot [create|list|restore|prune] [options]

Snapshots of this project's Claude Code data: its sessions' transcripts (on the host, in its worktrees and its
dev containers), their todos, tasks and file history, and the pack's records of them. Kept as one compressed
archive each under <config>/persist-host/snapshots/, a folder no dev container mounts.

  create [--json]                        take a snapshot now
  list [--json]                          the project's snapshots, newest first (the default)
  restore <id|latest> [--exact] [--json] put back what the snapshot held. The archive is verified first; the
                                         files it replaces are moved aside into an undo snapshot, so the
                                         restore can be undone. Sessions created since stay, unless --exact
                                         (they go into that undo snapshot). Refused while a Claude session of
                                         the project runs.
                                         'latest' is the newest snapshot not taken by a restore.
  prune [--keep N] [--json]              keep the newest N snapshots taken with create (default 10) and the
                                         newest pre-restore and pre-merge ones; delete the others
`,f={json:{type:"boolean"}},$=S({json:v().optional()}),O={...f,exact:{type:"boolean"}},A=$.extend({exact:v().optional()}),E={...f,keep:{type:"string"}},D=$.extend({keep:j().regex(/^[0-9]{1,6}$/,"give a whole number of snapshots to keep, 1 or more").transform(Number).pipe(y().int().min(1,"keep at least 1 snapshot")).default(10)}),G={help:P,async run(n,e){let[o="list",...a]=n[0]?.startsWith("-")?["list",...n]:n,c=`claude-persist snapshot ${o}`;if(o==="help")return e.stdout(P),0;switch(o){case"create":{let{values:s}=l(c,a,f,$),p=w(e,"claude-persist snapshot: still taking the snapshot"),t=await C(e.env,e.cwd).finally(p);return s.json?u(e,{ok:!0,...t}):e.stdout(`Snapshot ${t.id} of ${t.project.path}: ${i(t.sessionCount,"session")}, ${i(t.fileCount,"file")}, ${m(t.bytes)} (${m(t.archiveBytes)} compressed) in ${t.seconds.toFixed(1)} s
  ${t.archive}
`),t.skipped.length>0&&e.stderr(`claude-persist snapshot: left out ${t.skipped.length} symlinks or special files (${t.skipped.slice(0,3).join(", ")})
`),0}case"list":{let{values:s}=l(c,a,f,$),p=await g(e.env,e.cwd),t=B(p);return s.json?u(e,{ok:!0,snapshots:t}):e.stdout(F(p.hostPath,t,b(e))),0}case"restore":{let{values:s,positionals:p}=l(c,a,O,A,{positionals:1}),t=p[0];if(!t)throw new k(`say which snapshot: '${c} latest', or an id from 'claude-persist snapshot list'`,2);let h=w(e,"claude-persist snapshot: still restoring"),r=await I(e.env,e.cwd,t,{exact:!!s.exact}).finally(h);if(s.json)u(e,{ok:!0,...r});else{let z=s.exact?`; ${i(r.removed,"file")} it did not have removed`:"";e.stdout(`Restored snapshot ${r.id} of ${r.project}: ${i(r.sessions,"session")}, ${i(r.files,"file")}, ${m(r.bytes)}${z} (${r.seconds.toFixed(1)} s).
What it replaced is in snapshot ${r.undo.id} (${i(r.undo.movedAside,"file")} moved aside); undo with:
  claude-persist snapshot restore ${r.undo.id}
`)}return 0}case"prune":{let{values:s}=l(c,a,E,D),p=await g(e.env,e.cwd),t=await N(p,s.keep);return s.json?u(e,{ok:!0,kept:t.kept.map(h=>h.id),removed:t.removed.map(h=>h.id)}):e.stdout(T(t.kept.length,t.removed)),0}default:throw new k(`unknown action '${o}': use create, list, restore or prune`,2)}}};function F(n,e,o){if(e.length===0)return`No snapshots of ${n} yet; take one with 'claude-persist snapshot create'.
`;let a=e.map(s=>[d(s.id,80),d(s.kind,20),s.sessionCount<0?"?":String(s.sessionCount),s.bytes<0?"?":m(s.bytes),s.stored==="moved-aside"?"moved aside":m(s.archiveBytes),s.environment.machine==="unknown"?"?":d(`${s.environment.kind}:${s.environment.machine}`,80)]),c=["ID","KIND","SESSIONS","DATA","ARCHIVE","TAKEN ON"];return`${d(n)}: ${i(e.length,"snapshot")}, newest first
${x([c,...a],o).join(`
`)}
`}function T(n,e){return e.length===0?`Nothing to prune: ${i(n,"snapshot")} kept.
`:`Deleted ${i(e.length,"snapshot")} (${e.map(o=>d(o.id,80)).join(", ")}); ${n} kept.
`}function i(n,e){return`${n} ${e}${n===1?"":"s"}`}function m(n){if(n<1e3)return`${n} B`;let e=["kB","MB","GB","TB"],o=n/1e3,a=0;for(;o>=1e3&&a<e.length-1;)o/=1e3,a++;return`${o<10?o.toFixed(1):o.toFixed(0)} ${e[a]}`}export{G as snapshot};
