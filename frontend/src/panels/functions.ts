// Which function versions the worker panel offers, and which it picks.
import { isTestName } from "../api/testnames";
import type { FunctionVersion } from "../api/types";

/** isTestVersion: a version the UI's end-to-end tests register ("0.0.0-e2e", "0.0.0-e2e.1790000000000"). */
export function isTestVersion(version: string): boolean {
  return /(?:^|[.+-])e2e(?:[.+-]|$)/i.test(version);
}

/** The function names to offer, without the ones test runs left unless asked for (the chosen one always). */
export function functionNames(fns: FunctionVersion[], showTest: boolean, chosen?: string): string[] {
  return [...new Set(fns.map((f) => f.name))].filter((n) => showTest || n === chosen || !isTestName(n)).sort();
}

/** A function's versions, newest first, the ones tests registered last. */
export function versionsOf(fns: FunctionVersion[], name: string | undefined): FunctionVersion[] {
  return fns.filter((f) => f.name === name)
    .sort((a, b) => Number(isTestVersion(a.version)) - Number(isTestVersion(b.version)) || b.created_at.localeCompare(a.created_at));
}

/** The version chosen with a function: its newest that no test registered; none when tests registered all of them. */
export function defaultVersion(fns: FunctionVersion[], name: string | undefined): string | undefined {
  return versionsOf(fns, name).find((f) => !isTestVersion(f.version))?.version;
}
