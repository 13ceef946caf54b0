// zod/mini (a command's start loads a fraction of full zod) speaks in full zod's English messages wherever a module
// that shows a schema's message to the user imports this: a malformed file's error says which field is wrong, and how.
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

z.config(en());
