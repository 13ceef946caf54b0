import { createRequire as __cpRequire } from 'node:module'; const require = __cpRequire(import.meta.url);
var n={ok:0,failed:1,usage:2,needsCredential:3},t=class extends Error{constructor(i,s=n.failed){super(i);this.exitCode=s;this.name="UserError"}exitCode};function a(e){return e instanceof Error?e.message.split(`
`)[0]??String(e):String(e)}function d(e){return e instanceof t?e.exitCode===n.usage?"usage":e.exitCode===n.needsCredential?"needs-credential":"failed":"internal"}export{n as a,t as b,a as c,d};
