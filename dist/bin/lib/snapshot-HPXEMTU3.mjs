import { createRequire as __cpRequire } from 'node:module'; const require = __cpRequire(import.meta.url);
import{a as $,b as k,d as j,e as y,f as S}from"./chunk-RDS52LKY.mjs";import"./chunk-D26F5HRX.mjs";import"./chunk-N56LC7CB.mjs";import{a as w,b as v,c as f,f as g,n as d}from"./chunk-YM6QODTN.mjs";import"./chunk-FKKHG2JK.mjs";import"./chunk-5XTAE3ZC.mjs";import{a as m}from"./chunk-3NN5UTYV.mjs";import"./chunk-HB5W3DQL.mjs";var b=`Usage: claude-persist snapshot [create|list|restore|prune] [options]

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
`,l={json:{type:"boolean"}},u=g({json:f().optional()}),N={...l,exact:{type:"boolean"}},C=u.extend({exact:f().optional()}),O={...l,keep:{type:"string"}},B=u.extend({keep:w().regex(/^[0-9]{1,6}$/,"give a whole number of snapshots to keep, 1 or more").transform(Number).pipe(v().int().min(1,"keep at least 1 snapshot")).default(10)}),J={help:b,async run(n,t){let[o="list",...i]=n[0]?.startsWith("-")?["list",...n]:n,c=`claude-persist snapshot ${o}`;if(o==="help")return t.stdout(b),0;switch(o){case"create":{let{values:a}=d(c,i,l,u),e=await k(t.env,t.cwd);return a.json?t.stdout(`${JSON.stringify(e,null,2)}
`):t.stdout(`Snapshot ${e.id} of ${e.project.path}: ${p(e.sessionCount,"session")}, ${p(e.fileCount,"file")}, ${h(e.bytes)} (${h(e.archiveBytes)} compressed) in ${e.seconds.toFixed(1)} s
  ${e.archive}
`),e.skipped.length>0&&t.stderr(`claude-persist snapshot: left out ${e.skipped.length} symlinks or special files (${e.skipped.slice(0,3).join(", ")})
`),0}case"list":{let{values:a}=d(c,i,l,u),e=await $(t.env,t.cwd),r=j(e);return a.json?t.stdout(`${JSON.stringify(r,null,2)}
`):t.stdout(E(e.hostPath,r)),0}case"restore":{let{values:a,positionals:e}=d(c,i,N,C,{positionals:1}),r=e[0];if(!r)throw new m(`say which snapshot: '${c} latest', or an id from 'claude-persist snapshot list'`,2);let s=await S(t.env,t.cwd,r,{exact:!!a.exact});if(a.json)t.stdout(`${JSON.stringify(s,null,2)}
`);else{let x=a.exact?`; ${p(s.removed,"file")} it did not have removed`:"";t.stdout(`Restored snapshot ${s.id} of ${s.project}: ${p(s.sessions,"session")}, ${p(s.files,"file")}, ${h(s.bytes)}${x} (${s.seconds.toFixed(1)} s).
What it replaced is in snapshot ${s.undo.id} (${p(s.undo.movedAside,"file")} moved aside); undo with:
  claude-persist snapshot restore ${s.undo.id}
`)}return 0}case"prune":{let{values:a}=d(c,i,O,B),e=await $(t.env,t.cwd),r=await y(e,a.keep);return a.json?t.stdout(`${JSON.stringify({kept:r.kept.map(s=>s.id),removed:r.removed.map(s=>s.id)},null,2)}
`):t.stdout(I(r.kept.length,r.removed)),0}default:throw new m(`unknown action '${o}': use create, list, restore or prune`,2)}}};function E(n,t){if(t.length===0)return`No snapshots of ${n} yet; take one with 'claude-persist snapshot create'.
`;let o=t.map(e=>[e.id,e.kind,e.sessionCount<0?"?":String(e.sessionCount),e.bytes<0?"?":h(e.bytes),e.stored==="moved-aside"?"moved aside":h(e.archiveBytes),e.environment.machine==="unknown"?"?":`${e.environment.kind}:${e.environment.machine}`]),i=["ID","KIND","SESSIONS","DATA","ARCHIVE","TAKEN ON"],c=i.map((e,r)=>Math.max(e.length,...o.map(s=>(s[r]??"").length))),a=e=>`  ${e.map((r,s)=>r.padEnd(c[s]??0)).join("  ")}`.trimEnd();return`${n}: ${p(t.length,"snapshot")}, newest first
${[i,...o].map(a).join(`
`)}
`}function I(n,t){return t.length===0?`Nothing to prune: ${p(n,"snapshot")} kept.
`:`Deleted ${p(t.length,"snapshot")} (${t.map(o=>o.id).join(", ")}); ${n} kept.
`}function p(n,t){return`${n} ${t}${n===1?"":"s"}`}function h(n){if(n<1e3)return`${n} B`;let t=["kB","MB","GB","TB"],o=n/1e3,i=0;for(;o>=1e3&&i<t.length-1;)o/=1e3,i++;return`${o<10?o.toFixed(1):o.toFixed(0)} ${t[i]}`}export{J as snapshot};
