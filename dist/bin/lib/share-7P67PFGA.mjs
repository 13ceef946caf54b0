import { createRequire as __cpRequire } from 'node:module'; const require = __cpRequire(import.meta.url);
import{a as f,c as h,d as m}from"./chunk-EY4QPLOJ.mjs";import"./chunk-RFGQAQAJ.mjs";import"./chunk-IVSN34VG.mjs";import"./chunk-JHRLSK5T.mjs";import"./chunk-KTK74P6B.mjs";import"./chunk-YJLU7N6J.mjs";import"./chunk-J6D664OI.mjs";import"./chunk-ZGOIE4DW.mjs";import"./chunk-MHZNZR7E.mjs";import{a as d,c as i,f as l,n as u}from"./chunk-SLWT22NA.mjs";import"./chunk-PNB6BAC4.mjs";import"./chunk-VCPGHPBK.mjs";import"./chunk-XNDMTC7J.mjs";import{b as p}from"./chunk-L5F5NZYY.mjs";import"./chunk-HB5W3DQL.mjs";var g={config:{type:"string"},"dry-run":{type:"boolean"},json:{type:"boolean"}},O=l({config:d().min(1).optional(),"dry-run":i().optional(),json:i().optional()}),y=`  --config PATH   the devcontainer.json to use when the repo has several
  --dry-run       print the changes to the config, change nothing
  --json          print one machine-readable result
`,A={help:`Usage: dev-open --isolated [folder] [--config PATH] [--dry-run] [--json]
   or: claude-persist unshare [folder] [--config PATH] [--dry-run] [--json]

Takes this repo's persistence mounts out of its dev container config: once recreated, the container keeps its
own Claude sessions. 'claude-persist share' puts them back.

${y}`,run:(n,o)=>j("unshare",{isolated:!0},n,o)},C={help:`Usage: dev-open --config-only [folder] [--config PATH] [--dry-run] [--json]
   or: claude-persist share [folder] [--config PATH] [--dry-run] [--json]

Puts this repo's persistence mounts back into its dev container config and prepares the host; does not launch.

${y}`,run:(n,o)=>j("share",{configOnly:!0},n,o)};async function j(n,o,t,s){let a=t.indexOf("--"),c=(a<0?t:t.slice(0,a)).map(e=>e.split("=")[0]??e).find(e=>e.startsWith("-")&&!Object.hasOwn(g,e.replace(/^--?/,"")));if(c)throw new p(`${n} takes --config, --dry-run and --json, not ${c}`,2);let{values:r,positionals:b}=u(n,t,g,O,{positionals:1}),v=await f({...h(b[0]??s.cwd),...o,configPath:r.config,dryRun:!!r["dry-run"]},s);return m(v,!!r.json,s),0}export{C as share,A as unshare};
