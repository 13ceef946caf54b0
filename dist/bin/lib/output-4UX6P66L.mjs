import { createRequire as __cpRequire } from 'node:module'; const require = __cpRequire(import.meta.url);
import{a,b,c,d,e,f,g,h}from"./chunk-2LL7RR5B.mjs";import"./chunk-L5F5NZYY.mjs";import"./chunk-HB5W3DQL.mjs";export{g as formatBytes,h as formatTime,b as jsonFailure,f as plural,a as printJson,d as renderColumns,e as startProgress,c as terminalColumns};
