import { createRequire as __cpRequire } from 'node:module'; const require = __cpRequire(import.meta.url);
import{a as w,b as C,d as x,e as N,f as I}from"./chunk-TF22GCCP.mjs";import"./chunk-IG35CSZD.mjs";import"./chunk-EE6XLS26.mjs";import{a as y,b}from"./chunk-WQ7HNVY4.mjs";import{a as f,d as g}from"./chunk-RFC6QVBG.mjs";import{a as m,c as S,d as j,e as v,f as r,g as l}from"./chunk-OHH4IBPI.mjs";import{a as c}from"./chunk-JHLBTHJB.mjs";import"./chunk-KMP4L3A2.mjs";import{b as k}from"./chunk-L5F5NZYY.mjs";import"./chunk-HB5W3DQL.mjs";var $={type:"boolean",help:"print one machine-readable result"},d={create:{flags:{json:$},help:"take a snapshot now"},list:{flags:{json:$},help:"the project's snapshots, newest first (the default)"},restore:{args:"<id|latest>",flags:{exact:{type:"boolean",help:"also remove the sessions created since"},json:$},help:`put back what the snapshot held. The archive is verified first; the
files it replaces are moved aside into an undo snapshot, so the
restore can be undone. Sessions created since stay, unless --exact
(they go into that undo snapshot). Refused while a Claude session of
the project runs.
'latest' is the newest snapshot not taken by a restore.`},prune:{flags:{keep:{type:"string",value:"N",help:"how many snapshots taken with create to keep",check:()=>y().regex(/^[0-9]{1,6}$/,"give a whole number of snapshots to keep, 1 or more").transform(Number).pipe(b().int().min(1,"keep at least 1 snapshot")),default:10},json:$},help:`keep the newest N snapshots taken with create (default 10) and the
newest pre-restore and pre-merge ones; delete the others`}},P=`Usage: claude-persist snapshot [create|list|restore|prune] [options]

Snapshots of this project's Claude Code data: its sessions' transcripts (on the host, in its worktrees and its
dev containers), their todos, tasks and file history, and the pack's records of them. Kept as one compressed
archive each under <config>/persist-host/snapshots/, a folder no dev container mounts.

${g(d,39)}`,R={actions:d,help:P,async run(a,e){let[o="list",...h]=a[0]?.startsWith("-")?["list",...a]:a,p=`claude-persist snapshot ${o}`;if(o==="help")return e.stdout(P),0;switch(o){case"create":{let{values:t}=f(p,h,d[o].flags),i=v(e,"claude-persist snapshot: still taking the snapshot"),s=await C(e.env,e.cwd).finally(i);return t.json?m(e,{ok:!0,...s}):e.stdout(`Snapshot ${s.id} of ${s.project.path}: ${r(s.sessionCount,"session")}, ${r(s.fileCount,"file")}, ${l(s.bytes)} (${l(s.archiveBytes)} compressed) in ${s.seconds.toFixed(1)} s
  ${s.archive}
`),s.skipped.length>0&&e.stderr(`claude-persist snapshot: left out ${s.skipped.length} symlinks or special files (${s.skipped.slice(0,3).join(", ")})
`),0}case"list":{let{values:t}=f(p,h,d[o].flags),i=await w(e.env,e.cwd),s=x(i);return t.json?m(e,{ok:!0,snapshots:s}):e.stdout(E(i.hostPath,s,S(e))),0}case"restore":{let{values:t,positionals:i}=f(p,h,d.restore.flags,{positionals:1}),s=i[0];if(!s)throw new k(`say which snapshot: '${p} latest', or an id from 'claude-persist snapshot list'`,2);let u=v(e,"claude-persist snapshot: still restoring"),n=await I(e.env,e.cwd,s,{exact:!!t.exact}).finally(u);if(t.json)m(e,{ok:!0,...n});else{let A=t.exact?`; ${r(n.removed,"file")} it did not have removed`:"";e.stdout(`Restored snapshot ${n.id} of ${n.project}: ${r(n.sessions,"session")}, ${r(n.files,"file")}, ${l(n.bytes)}${A} (${n.seconds.toFixed(1)} s).
What it replaced is in snapshot ${n.undo.id} (${r(n.undo.movedAside,"file")} moved aside); undo with:
  claude-persist snapshot restore ${n.undo.id}
`)}return 0}case"prune":{let{values:t}=f(p,h,d.prune.flags),i=await w(e.env,e.cwd),s=await N(i,t.keep);return t.json?m(e,{ok:!0,kept:s.kept.map(u=>u.id),removed:s.removed.map(u=>u.id)}):e.stdout(B(s.kept.length,s.removed)),0}default:throw new k(`unknown action '${o}': use create, list, restore or prune`,2)}}};function E(a,e,o){if(e.length===0)return`No snapshots of ${a} yet; take one with 'claude-persist snapshot create'.
`;let h=e.map(t=>[c(t.id,80),c(t.kind,20),t.sessionCount<0?"?":String(t.sessionCount),t.bytes<0?"?":l(t.bytes),t.stored==="moved-aside"?"moved aside":l(t.archiveBytes),t.environment.machine==="unknown"?"?":c(`${t.environment.kind}:${t.environment.machine}`,80)]),p=["ID","KIND","SESSIONS","DATA","ARCHIVE","TAKEN ON"];return`${c(a)}: ${r(e.length,"snapshot")}, newest first
${j([p,...h],o).join(`
`)}
`}function B(a,e){return e.length===0?`Nothing to prune: ${r(a,"snapshot")} kept.
`:`Deleted ${r(e.length,"snapshot")} (${e.map(o=>c(o.id,80)).join(", ")}); ${a} kept.
`}export{R as snapshot};
