import { createRequire as __cpRequire } from 'node:module'; const require = __cpRequire(import.meta.url);
import{a,b,c,d,e}from"./chunk-PNB6BAC4.mjs";import"./chunk-L5F5NZYY.mjs";import"./chunk-HB5W3DQL.mjs";export{b as jsonFailure,a as printJson,d as renderColumns,e as startProgress,c as terminalColumns};
