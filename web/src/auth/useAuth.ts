import { useSyncExternalStore } from "react";
import { loadTokens, onTokensChange, type Tokens } from "./store";

let snapshot: Tokens | null = loadTokens();
let snapshotKey = snapshot?.idToken ?? "";

function subscribe(callback: () => void): () => void {
  return onTokensChange(() => {
    snapshot = loadTokens();
    snapshotKey = snapshot?.idToken ?? "";
    callback();
  });
}

function get(): Tokens | null {
  const fresh = loadTokens();
  if ((fresh?.idToken ?? "") !== snapshotKey) {
    snapshot = fresh;
    snapshotKey = fresh?.idToken ?? "";
  }
  return snapshot;
}

/** The signed-in user (null for none), re-rendering on sign-in and sign-out. */
export function useAuth(): Tokens | null {
  return useSyncExternalStore(subscribe, get, get);
}
