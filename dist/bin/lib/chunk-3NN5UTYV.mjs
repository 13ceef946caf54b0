import { createRequire as __cpRequire } from 'node:module'; const require = __cpRequire(import.meta.url);
var t=class extends Error{constructor(r,s=1){super(r);this.exitCode=s;this.name="UserError"}exitCode};function i(n){return n instanceof Error?n.message.split(`
`)[0]??String(n):String(n)}export{t as a,i as b};
