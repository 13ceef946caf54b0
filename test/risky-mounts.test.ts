// Which mounts of a repo's config hand the host's credentials to its container (config/risky-mounts.ts), over the
// real-world configs: the ones named are real credential mounts, and nothing else is (no warning people learn to skip).
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseDevcontainerConfig } from "../src/devcontainer/config/config.ts";
import { riskyMounts } from "../src/devcontainer/config/risky-mounts.ts";
import { configFilesIn, hasSharedCorpus, SHARED_CORPUS } from "./fixtures/devcontainers/corpus.ts";

/** The folder a fixture's repo would be cloned to: the corpus entry holding it. */
function repoOf(file: string): string {
  const [entry] = path.relative(SHARED_CORPUS, file).split(path.sep);
  return path.join(SHARED_CORPUS, entry ?? "");
}

describe.skipIf(!hasSharedCorpus)(
  "the shared real-world configs (skipped: ../shared/fixtures/devcontainers is absent)",
  () => {
    it("name the ~/.ssh and ~/.kube mounts written as ${env:HOME}${env:USERPROFILE}, and nothing else", async () => {
      const named: string[] = [];
      for (const file of configFilesIn(SHARED_CORPUS)) {
        const { config } = parseDevcontainerConfig(readFileSync(file, "utf8"), file);
        const read = (compose: string) => {
          try {
            return readFileSync(compose, "utf8");
          } catch {
            return undefined;
          }
        };
        const found = await riskyMounts({ HOME: "/home/ana" }, { root: repoOf(file), configFile: file, config }, read);
        named.push(
          ...found.map(
            (mount) => `${path.relative(SHARED_CORPUS, file)}: ${mount.label.split(" into the container: ")[1]}`,
          ),
        );
      }
      const risk = (what: string) => `${what}, for anything the repo runs there to read and change`;
      expect(named.sort()).toEqual(
        [
          `AI-Substrate__wormhole/.devcontainer/claude-mode/devcontainer.json: ${risk("your SSH keys")}`,
          `AI-Substrate__wormhole/.devcontainer/default/devcontainer.json: ${risk("your SSH keys")}`,
          `AI-Substrate__wormhole/.devcontainer/devcontainer.json: ${risk("your SSH keys")}`,
          `devcontainers__templates__kubernetes-helm/src/kubernetes-helm/.devcontainer/devcontainer.json: ${risk("your Kubernetes credentials")}`,
          `microsoft__vscode-dev-containers__kubernetes-helm/containers/kubernetes-helm/.devcontainer/devcontainer.json: ${risk("your Kubernetes credentials")}`,
        ].sort(),
      );
    });
  },
);
