import { createRequire as __cpRequire } from 'node:module'; const require = __cpRequire(import.meta.url);
import{a as w,b as x,d as C,e as B,f as N}from"./chunk-YZX6RCM5.mjs";import"./chunk-QJ3QRLAY.mjs";import"./chunk-M45BHA63.mjs";import{a as g,b as j,c as k,f as y,n as h}from"./chunk-OVDS7ZNV.mjs";import{a as l,c as S,d as b,e as v}from"./chunk-2OHURMES.mjs";import"./chunk-4TMLAOUU.mjs";import"./chunk-3RZQNDDM.mjs";import{b as $}from"./chunk-L5F5NZYY.mjs";import"./chunk-HB5W3DQL.mjs";var I=`Usage: claude-persist snapshot [create|list|restore|prune] [options]

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
`,m={json:{type:"boolean"}},f=y({json:k().optional()}),z={...m,exact:{type:"boolean"}},O=f.extend({exact:k().optional()}),A={...m,keep:{type:"string"}},E=f.extend({keep:g().regex(/^[0-9]{1,6}$/,"give a whole number of snapshots to keep, 1 or more").transform(Number).pipe(j().int().min(1,"keep at least 1 snapshot")).default(10)}),U={help:I,async run(n,e){let[o="list",...a]=n[0]?.startsWith("-")?["list",...n]:n,c=`claude-persist snapshot ${o}`;if(o==="help")return e.stdout(I),0;switch(o){case"create":{let{values:s}=h(c,a,m,f),p=v(e,"claude-persist snapshot: still taking the snapshot"),t=await x(e.env,e.cwd).finally(p);return s.json?l(e,{ok:!0,...t}):e.stdout(`Snapshot ${t.id} of ${t.project.path}: ${i(t.sessionCount,"session")}, ${i(t.fileCount,"file")}, ${u(t.bytes)} (${u(t.archiveBytes)} compressed) in ${t.seconds.toFixed(1)} s
  ${t.archive}
`),t.skipped.length>0&&e.stderr(`claude-persist snapshot: left out ${t.skipped.length} symlinks or special files (${t.skipped.slice(0,3).join(", ")})
`),0}case"list":{let{values:s}=h(c,a,m,f),p=await w(e.env,e.cwd),t=C(p);return s.json?l(e,{ok:!0,snapshots:t}):e.stdout(D(p.hostPath,t,S(e))),0}case"restore":{let{values:s,positionals:p}=h(c,a,z,O,{positionals:1}),t=p[0];if(!t)throw new $(`say which snapshot: '${c} latest', or an id from 'claude-persist snapshot list'`,2);let d=v(e,"claude-persist snapshot: still restoring"),r=await N(e.env,e.cwd,t,{exact:!!s.exact}).finally(d);if(s.json)l(e,{ok:!0,...r});else{let P=s.exact?`; ${i(r.removed,"file")} it did not have removed`:"";e.stdout(`Restored snapshot ${r.id} of ${r.project}: ${i(r.sessions,"session")}, ${i(r.files,"file")}, ${u(r.bytes)}${P} (${r.seconds.toFixed(1)} s).
What it replaced is in snapshot ${r.undo.id} (${i(r.undo.movedAside,"file")} moved aside); undo with:
  claude-persist snapshot restore ${r.undo.id}
`)}return 0}case"prune":{let{values:s}=h(c,a,A,E),p=await w(e.env,e.cwd),t=await B(p,s.keep);return s.json?l(e,{ok:!0,kept:t.kept.map(d=>d.id),removed:t.removed.map(d=>d.id)}):e.stdout(F(t.kept.length,t.removed)),0}default:throw new $(`unknown action '${o}': use create, list, restore or prune`,2)}}};function D(n,e,o){if(e.length===0)return`No snapshots of ${n} yet; take one with 'claude-persist snapshot create'.
`;let a=e.map(s=>[s.id,s.kind,s.sessionCount<0?"?":String(s.sessionCount),s.bytes<0?"?":u(s.bytes),s.stored==="moved-aside"?"moved aside":u(s.archiveBytes),s.environment.machine==="unknown"?"?":`${s.environment.kind}:${s.environment.machine}`]),c=["ID","KIND","SESSIONS","DATA","ARCHIVE","TAKEN ON"];return`${n}: ${i(e.length,"snapshot")}, newest first
${b([c,...a],o).join(`
`)}
`}function F(n,e){return e.length===0?`Nothing to prune: ${i(n,"snapshot")} kept.
`:`Deleted ${i(e.length,"snapshot")} (${e.map(o=>o.id).join(", ")}); ${n} kept.
`}function i(n,e){return`${n} ${e}${n===1?"":"s"}`}function u(n){if(n<1e3)return`${n} B`;let e=["kB","MB","GB","TB"],o=n/1e3,a=0;for(;o>=1e3&&a<e.length-1;)o/=1e3,a++;return`${o<10?o.toFixed(1):o.toFixed(0)} ${e[a]}`}export{U as snapshot};
