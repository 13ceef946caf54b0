import { createRequire as __cpRequire } from 'node:module'; const require = __cpRequire(import.meta.url);
import{a as h,b as r,d as g,e as y}from"./chunk-SBOUQYEA.mjs";import"./chunk-EEQC33BG.mjs";import"./chunk-MXU4BULW.mjs";import"./chunk-RA5ELOLK.mjs";import"./chunk-KTK74P6B.mjs";import"./chunk-UQMEZNRN.mjs";import"./chunk-NSZHOHJF.mjs";import"./chunk-CYU6E6DH.mjs";import{a as f,b as p,c as m}from"./chunk-RFC6QVBG.mjs";import"./chunk-KPNQKYXO.mjs";import"./chunk-2LL7RR5B.mjs";import"./chunk-J4H4DSBX.mjs";import"./chunk-B4O67RG4.mjs";import"./chunk-RVN5WOLE.mjs";import{b as u}from"./chunk-L5F5NZYY.mjs";import"./chunk-HB5W3DQL.mjs";var e={config:r.config,"dry-run":r["dry-run"],json:r.json},i=`[folder] ${m(e)}`,U={flags:e,help:`Usage: dev-open --isolated ${i}
   or: claude-persist unshare ${i}

Takes this repo's persistence mounts out of its dev container config: once recreated, the container keeps its
own Claude sessions. 'claude-persist share' puts them back.

${p(e)}`,run:(n,o)=>v("unshare",{isolated:!0},n,o)},x={flags:e,help:`Usage: dev-open --config-only ${i}
   or: claude-persist share ${i}

Puts this repo's persistence mounts back into its dev container config and prepares the host; does not launch.

${p(e)}`,run:(n,o)=>v("share",{configOnly:!0},n,o)};async function v(n,o,t,a){let d=t.indexOf("--"),l=(d<0?t:t.slice(0,d)).map(s=>s.split("=")[0]??s).find(s=>s.startsWith("-")&&!Object.hasOwn(e,s.replace(/^--?/,"")));if(l)throw new u(`${n} takes --config, --dry-run and --json, not ${l}`,2);let{values:c,positionals:O}=f(n,t,e,{positionals:1}),$=await h({...g(O[0]??a.cwd),...o,configPath:c.config,dryRun:!!c["dry-run"]},a);return y($,!!c.json,a),0}export{x as share,U as unshare};
