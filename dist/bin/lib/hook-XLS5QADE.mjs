import { createRequire as __cpRequire } from 'node:module'; const require = __cpRequire(import.meta.url);
import{E as r}from"./chunk-JHLBTHJB.mjs";import"./chunk-KMP4L3A2.mjs";import{b as e}from"./chunk-L5F5NZYY.mjs";import"./chunk-HB5W3DQL.mjs";import{text as d}from"node:stream/consumers";var u={flags:{},help:`Usage: claude-persist hook session-start

Runs the SessionStart hook as Claude Code does: reads the hook's JSON ({"session_id", "cwd", "source", \u2026}) on
stdin and prints its answer (the context for the session) on stdout. It always exits 0: a hook never blocks a session.
`,async run(o,s){if(o[0]!=="session-start"||o.length>1)throw new e("usage: claude-persist hook session-start  (reads the hook's JSON on stdin)",2);let n=s.stdin===process.stdin&&process.stdin.isTTY?"":await d(s.stdin),t=r(n,s.env);return t.stdout&&s.stdout(t.stdout),t.stderr&&s.stderr(t.stderr),0}};export{u as hook};
