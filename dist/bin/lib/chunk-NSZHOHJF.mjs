import { createRequire as __cpRequire } from 'node:module'; const require = __cpRequire(import.meta.url);
async function e(){return(await import("./execa-7U7ICGDB.mjs")).execa}export{e as a};
