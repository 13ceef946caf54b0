// How large V8's young generation may grow while usage is counted. The tens of thousands of records a count builds
// outlive the scavenges that see them, and V8 answers that by doubling its two semi-spaces, up to 16 MB each: a
// third of a cold run's peak memory. Kept at its starting size (1 MB semi-spaces), scavenges run so often that
// short-lived objects get promoted and the old generation grows by as much; 4 MB semi-spaces let them die young
// (measured: peak 107-108 MB at 4 MB, 110-112 at 1 MB, 114-118 at 8 MB, 130 at V8's 16 MB). `--max-semi-space-size`
// would say so, but V8 reads it only when the heap is made; the growth factor is read each time the young generation
// would grow, so setting it to 1 once the young generation has reached the size wanted stops it there.
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";

/** The young generation's size (both semi-spaces) past which it is not grown. */
const YOUNG_BYTES = 8 << 20;
let capped = false;

/** Called now and then during a count: stops the young generation growing once it has reached YOUNG_BYTES. */
export function capYoungGeneration(): void {
  if (capped) return;
  const young = getHeapSpaceStatistics().find((space) => space.space_name === "new_space");
  if (young !== undefined && young.space_size < YOUNG_BYTES) return;
  setFlagsFromString("--semi-space-growth-factor=1");
  capped = true;
}
